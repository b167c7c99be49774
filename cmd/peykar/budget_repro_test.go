package main

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/internal/auth"
)

// TestUserInputCannotTakeTheServerDown replays, through the real server,
// what a marketer typed to crash it (issue 14): each answers a clear 422
// naming the field, and /healthz answers 200 after every one.
func TestUserInputCannotTakeTheServerDown(t *testing.T) {
	t.Parallel()
	m := testMain(t)
	marketer := testToken(t, m, auth.RoleMarketer)
	segID, tplID := webhookFixtures(t, m)
	healthy := func() {
		t.Helper()
		code, body := get(t, m.URL()+"/healthz")
		require.Equal(t, http.StatusOK, code, body)
	}
	campaign := func(rules, goals []map[string]any) map[string]any {
		return map[string]any{"name": "c", "segment_id": segID, "channel": "email",
			"from":  map[string]any{"name": "Shop", "email": "news@shop.example"},
			"steps": []map[string]any{{"key": "main", "template_id": tplID}}, "rules": rules, "goals": goals}
	}
	for _, rule := range []string{
		`len(repeat(repeat("x", 99999), 1000000)) > 0`,
		`len(replace(repeat("x", 99999), "x", repeat("y", 99999))) > 0`,
		`len(repeat(repeat("x",10000),100000)) > 0`,
	} {
		code, body := do(t, m, http.MethodPost, "/api/v1/segments/preview", marketer, map[string]any{"rule": rule})
		requireFieldError(t, code, body, "rule", "evaluation budget")
		healthy()
		code, body = do(t, m, http.MethodPost, "/api/v1/campaigns", marketer, campaign(nil, []map[string]any{{"name": "g", "when": rule}}))
		requireFieldError(t, code, body, "goals[0].when", "evaluation budget")
		healthy()
		code, body = do(t, m, http.MethodPost, "/api/v1/campaigns", marketer, campaign([]map[string]any{{"name": "r", "on": "click", "when": rule,
			"actions": []map[string]any{{"type": "add_tag", "tag": "x"}}}}, nil))
		requireFieldError(t, code, body, "rules[0].when", "evaluation budget")
		healthy()
	}
	// The same rule, whose size depends on the contact, is refused when
	// it is counted, naming the contact.
	code, body := do(t, m, http.MethodPost, "/api/v1/segments/preview", marketer,
		map[string]any{"rule": `len(repeat(contact.email, 1000000)) > 0`})
	requireFieldError(t, code, body, "rule", "for contact #")
	healthy()
	code, body = do(t, m, http.MethodPost, "/api/v1/segments", marketer,
		map[string]any{"name": "far", "rule": `days_since(contact.created_at) == 10000000`})
	requireFieldError(t, code, body, "rule", "days_since")
	healthy()

	for _, html := range []string{
		`{{ $n := 100000000000 }}{{range $n}}x{{end}}`,
		`{{range 1000}}{{range 1000}}{{range 100}}x{{end}}{{end}}{{end}}`,
	} {
		code, body = do(t, m, http.MethodPost, "/api/v1/templates", marketer,
			map[string]any{"name": "t", "subject": "Hi", "html": html + `<a href="{{ unsubscribe_url }}">u</a>`})
		require.Equal(t, http.StatusUnprocessableEntity, code, body)
		require.Contains(t, body, "loop iterations")
		healthy()
	}
}
