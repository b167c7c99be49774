package web

import (
	"encoding/json"
	"fmt"
)

// catalogue maps a message id to its text in one language.
type catalogue map[string]string

// loadCatalogue reads i18n/{lang}.json.
func loadCatalogue(lang string) (catalogue, error) {
	b, err := assets.ReadFile("i18n/" + lang + ".json")
	if err != nil {
		return nil, fmt.Errorf("message catalogue %s: %w", lang, err)
	}
	var c catalogue
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("message catalogue %s: %w", lang, err)
	}
	return c, nil
}

// T returns message id formatted with args; a missing id shows as itself so
// it is noticed, not hidden.
func (c catalogue) T(id string, args ...any) string {
	s, ok := c[id]
	if !ok {
		return "!" + id
	}
	if len(args) > 0 {
		return fmt.Sprintf(s, args...)
	}
	return s
}
