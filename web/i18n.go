package web

import (
	"encoding/json"
	"fmt"
	"strings"
)

// catalogue maps a message id to its text in one language.
type catalogue map[string]string

// loadCatalogue reads i18n/{lang}.json over the English catalogue, so a
// translation in progress shows English for the ids it lacks.
func loadCatalogue(lang string) (catalogue, error) {
	c := catalogue{}
	for _, l := range []string{"en", lang} {
		b, err := assets.ReadFile("i18n/" + l + ".json")
		if err != nil {
			return nil, fmt.Errorf("message catalogue %s: %w", l, err)
		}
		if err := json.Unmarshal(b, &c); err != nil {
			return nil, fmt.Errorf("message catalogue %s: %w", l, err)
		}
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

// TL is T with its numeric arguments written by lc (Persian digits and
// the locale's separators): an integer argument fills its %d as text.
func (c catalogue) TL(lc locale, id string, args ...any) string {
	s, ok := c[id]
	if !ok {
		return "!" + id
	}
	if len(args) == 0 {
		return s
	}
	local := make([]any, len(args))
	for i, a := range args {
		switch a.(type) {
		case int, int32, int64:
			local[i] = lc.Num(a)
		default:
			local[i] = a
		}
	}
	return fmt.Sprintf(strings.ReplaceAll(s, "%d", "%s"), local...)
}
