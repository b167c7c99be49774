package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/internal/auth"
	"github.com/peykar/peykar/internal/httpapi"
)

// apiError decodes the API's error shape.
func apiError(t *testing.T, body string) httpapi.ErrorDetail {
	t.Helper()
	var e httpapi.ErrorBody
	require.NoError(t, json.Unmarshal([]byte(body), &e), body)
	return e.Error
}

// TestNULAndLineBreaksAnswer422: through the real server, a NUL byte in a
// query, a JSON body or a form, a line break in a sender's name and an
// out-of-range throttle each answer 422 naming the field (on the admin
// pages: a page that names it), and the server stays healthy.
func TestNULAndLineBreaksAnswer422(t *testing.T) {
	t.Parallel()
	m := testMain(t)
	admin := testToken(t, m, auth.RoleAdmin)

	for _, c := range []struct {
		method, path string
		body         any
		field, msg   string
	}{
		{http.MethodGet, "/api/v1/contacts?q=%00", nil, "q", "NUL"},
		{http.MethodGet, "/api/v1/campaigns?after=1&x%00=1", nil, `x\u0000`, "NUL"},
		{http.MethodPost, "/api/v1/contacts", map[string]any{"email": "a@example.com", "attributes": map[string]any{"city": "Teh\x00ran"}}, "attributes.city", "NUL"},
		{http.MethodPost, "/api/v1/contacts", map[string]any{"email": "a@example.com", "name": "Sara\r\nBcc: all@example.com"}, "name", "carriage return"},
		{http.MethodPost, "/api/v1/templates", map[string]any{"name": "w\x00", "subject": "Hi", "html": "<p>Hi</p>"}, "name", "NUL"},
		{http.MethodPost, "/api/v1/campaigns", map[string]any{"name": "spring", "throttle_per_second": 1e-320}, "throttle_per_second", "from 0.01 to 100000"},
		{http.MethodPost, "/api/v1/campaigns", map[string]any{"name": "spring", "throttle_per_second": 1e308}, "throttle_per_second", "from 0.01 to 100000"},
		{http.MethodPost, "/api/v1/campaigns", map[string]any{"name": "spring", "from": map[string]any{"name": "Shop\r\nBcc: all@example.com", "email": "news@shop.example"}}, "from.name", "carriage return"},
		{http.MethodGet, "/admin/jobs/api/jobs?state=%00", nil, "state", "NUL"},
	} {
		code, body := do(t, m, c.method, c.path, admin, c.body)
		require.Equal(t, http.StatusUnprocessableEntity, code, "%s %s: %s", c.method, c.path, body)
		e := apiError(t, body)
		require.Equal(t, c.field, e.Field, body)
		require.Contains(t, e.Message, c.msg, body)
	}

	// Admin pages: a NUL in a query or a form is named on an error page.
	code, body := do(t, m, http.MethodGet, "/admin/contacts?q=%00", admin, nil)
	require.Equal(t, http.StatusUnprocessableEntity, code, body)
	require.Contains(t, body, "The field “q” contains a NUL character")
	code, body = postForm(t, m, admin, "/admin/segments", url.Values{"name": {"Teh\x00ran"}, "rule": {"true"}})
	require.Equal(t, http.StatusUnprocessableEntity, code, body)
	require.Contains(t, body, "The field “name” contains a NUL character")
	code, body = postForm(t, m, admin, "/admin/users", url.Values{"email": {"x\x00@example.com"}, "role": {"marketer"}, "password": {"long enough password"}})
	require.Equal(t, http.StatusUnprocessableEntity, code, body)
	require.Contains(t, body, "The field “email” contains a NUL character")

	// A line break in the sender's name shows next to the field.
	code, body = postForm(t, m, admin, "/admin/campaigns/new", url.Values{"name": {"spring"}, "channel": {"email"},
		"from.name": {"Shop\r\nBcc: all@example.com"}, "from.email": {"news@shop.example"}})
	require.Equal(t, http.StatusUnprocessableEntity, code, body)
	require.Contains(t, body, `href="#f-from.name"`)
	require.Contains(t, body, "must be one line without control characters")
	code, body = postForm(t, m, admin, "/admin/campaigns/new", url.Values{"name": {"spring"}, "channel": {"email"}, "throttle_per_second": {"1e308"}})
	require.Equal(t, http.StatusUnprocessableEntity, code, body)
	require.Contains(t, body, "from 0.01 to 100000 messages per second")

	var n int
	require.NoError(t, m.pool.QueryRow(t.Context(), `SELECT (SELECT count(*) FROM contacts) + (SELECT count(*) FROM campaigns)
		+ (SELECT count(*) FROM segments) + (SELECT count(*) FROM templates)`).Scan(&n))
	require.Zero(t, n, "nothing was stored")
	code, _ = get(t, m.URL()+"/healthz")
	require.Equal(t, http.StatusOK, code)
}
