package main

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/internal/auth"
)

// TestAdminPagesRender GETs every page an admin and a manager see, empty.
func TestAdminPagesRender(t *testing.T) {
	t.Parallel()
	m := testMain(t)
	admin := testToken(t, m, auth.RoleAdmin)
	manager := testToken(t, m, auth.RoleManager)
	pages := map[string]string{
		"/admin/campaigns":       "No campaigns yet",
		"/admin/outbox":          "No messages caught yet",
		"/admin/users":           "Add a user",
		"/admin/tokens":          "test admin",
		"/admin/contacts":        "No contacts yet",
		"/admin/contacts/import": "Upload and import",
		"/admin/segments":        "No segments yet",
		"/admin/segments/new":    "Matching contacts",
		"/admin/templates":       "No templates yet",
		"/admin/templates/new":   "Preview for",
		"/admin/campaigns/new":   "There are no segments yet",
	}
	for path, want := range pages {
		code, body := do(t, m, http.MethodGet, path, admin, nil)
		require.Equal(t, http.StatusOK, code, path)
		require.Contains(t, body, want, path)
		require.NotRegexp(t, `!\w+\.\w+`, body, "a message id is missing from the catalogue on %s", path)
	}
	code, body := do(t, m, http.MethodGet, "/admin/campaigns", manager, nil)
	require.Equal(t, http.StatusOK, code)
	require.NotContains(t, body, "New campaign", "managers are not offered editing")
	code, body = do(t, m, http.MethodGet, "/admin/users", manager, nil)
	require.Equal(t, http.StatusForbidden, code)
	require.Contains(t, body, "Your role (manager) may not do this", "a page, not JSON")
	code, _ = do(t, m, http.MethodGet, "/admin/campaigns/999", admin, nil)
	require.Equal(t, http.StatusNotFound, code)
	code, body = do(t, m, http.MethodGet, "/admin", admin, nil)
	require.Equal(t, http.StatusSeeOther, code)
	require.Equal(t, "/admin/campaigns", body)
}

// TestPageFormsValidate posts the editors' forms (with an API token, so
// without CSRF) and checks errors come back next to their field.
func TestPageFormsValidate(t *testing.T) {
	t.Parallel()
	m := testMain(t)
	token := testToken(t, m, auth.RoleMarketer)
	post := func(path string, form url.Values) (int, string) {
		req, err := http.NewRequest(http.MethodPost, m.URL()+path, strings.NewReader(form.Encode()))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := noRedirect.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Location") + string(b)
	}
	code, body := post("/admin/segments", url.Values{"name": {"bad"}, "rule": {"contact.emial == 1"}})
	require.Equal(t, http.StatusUnprocessableEntity, code)
	require.Contains(t, body, `id="rule-err"`)
	require.Contains(t, body, "emial")

	code, body = post("/admin/segments", url.Values{"name": {"همه"}, "rule": {"true"}})
	require.Equal(t, http.StatusSeeOther, code, body)
	require.Contains(t, body, "/admin/segments/")

	code, body = post("/admin/templates", url.Values{"name": {"welcome"}, "subject": {"Hi {{ .Contact.Name }}"}, "html": {"<p>Hi</p>"}})
	require.Equal(t, http.StatusSeeOther, code, body)

	code, body = post("/admin/campaigns/new", url.Values{"name": {"spring"}, "channel": {"email"}, "throttle_per_second": {"fast"}})
	require.Equal(t, http.StatusUnprocessableEntity, code)
	require.Contains(t, body, "must be a number of messages per second")

	code, body = post("/admin/campaigns/new", url.Values{"name": {""}, "channel": {"email"}})
	require.Equal(t, http.StatusUnprocessableEntity, code)
	require.Contains(t, body, `href="#f-name"`)
}

// TestPersianPages serves the Persian catalogue right to left to a browser
// that asks for it, with English for what is not translated yet.
func TestPersianPages(t *testing.T) {
	t.Parallel()
	m := testMain(t)
	req, err := http.NewRequest(http.MethodGet, m.URL()+"/admin/login", nil)
	require.NoError(t, err)
	req.Header.Set("Accept-Language", "fa-IR,fa;q=0.9,en;q=0.5")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Contains(t, string(b), `<html lang="fa" dir="rtl">`)
	require.Contains(t, string(b), "ورود")
	code, body := get(t, m.URL()+"/admin/login")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, `<html lang="en" dir="ltr">`)
}
