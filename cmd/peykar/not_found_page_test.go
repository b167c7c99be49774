package main

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestAdminNotFoundPage: an /admin URL no page answers shows the layout's
// error page in the user's language with status 404 (not the API's JSON),
// after the login check; the API keeps its JSON 404.
func TestAdminNotFoundPage(t *testing.T) {
	t.Parallel()
	m := testMain(t, "PEYKAR_ADMIN_EMAIL", "admin@example.com", "PEYKAR_ADMIN_PASSWORD", "admin password 1")

	// Nobody signed in: the login page, not a hint of which pages exist.
	code, loc := do(t, m, http.MethodGet, "/admin/no-such-page", "", nil)
	require.Equal(t, http.StatusSeeOther, code)
	require.True(t, strings.HasPrefix(loc, "/admin/login?next="), loc)

	s := loginAs(t, m, "admin@example.com", "admin password 1")
	for _, path := range []string{"/admin/no-such-page", "/admin/campaigns/1/nothing/here"} {
		resp, err := s.client.Get(m.URL() + path)
		require.NoError(t, err)
		body := readAll(t, resp)
		require.Equal(t, http.StatusNotFound, resp.StatusCode, path)
		require.Contains(t, resp.Header.Get("Content-Type"), "text/html", path)
		require.Contains(t, body, "That page does not exist (or was deleted).", path)
		require.Contains(t, body, `<nav`, "%s: the normal navigation", path)
		require.NotContains(t, body, `"code":"not_found"`, path)
	}

	// In Persian.
	u, err := url.Parse(m.URL())
	require.NoError(t, err)
	s.client.Jar.SetCookies(u, []*http.Cookie{{Name: "peykar_lang", Value: "fa", Path: "/"}})
	resp, err := s.client.Get(m.URL() + "/admin/no-such-page")
	require.NoError(t, err)
	body := readAll(t, resp)
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
	require.Contains(t, body, `dir="rtl"`)
	require.Contains(t, body, "این صفحه وجود ندارد (یا پاک شده است).")

	// The API's unknown URLs stay JSON.
	resp, err = s.client.Get(m.URL() + "/api/v1/no-such-thing")
	require.NoError(t, err)
	body = readAll(t, resp)
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
	require.Contains(t, body, `"code":"not_found"`)
}

// readAll reads and closes resp's body.
func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(b)
}
