package main

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/internal/auth"
)

// send makes a request with the session's cookies and the given headers
// (name, value pairs) and returns its status.
func (s *browserSession) send(method, path string, body string, headers ...string) int {
	s.t.Helper()
	req, err := http.NewRequest(method, s.m.URL()+path, strings.NewReader(body))
	require.NoError(s.t, err)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := s.client.Do(req)
	require.NoError(s.t, err)
	resp.Body.Close()
	return resp.StatusCode
}

// TestCSRFTokenIsTiedToTheSession: a CSRF token works only with the
// session (or, before login, the visitor cookie) it was made for, and a
// new login makes a new one.
func TestCSRFTokenIsTiedToTheSession(t *testing.T) {
	t.Parallel()
	m := testMain(t, "PEYKAR_ADMIN_EMAIL", "admin@example.com", "PEYKAR_ADMIN_PASSWORD", "admin password 1")
	a := loginAs(t, m, "admin@example.com", "admin password 1")
	b := loginAs(t, m, "admin@example.com", "admin password 1") // the same user, another browser
	require.NotEqual(t, a.csrf, b.csrf)
	segment := `{"name":"s","rule":"true"}`
	require.Equal(t, http.StatusForbidden, a.send(http.MethodPost, "/api/v1/segments", segment, "X-CSRF-Token", b.csrf), "another session's token")
	require.Equal(t, http.StatusCreated, a.send(http.MethodPost, "/api/v1/segments", segment, "X-CSRF-Token", a.csrf))
	require.Equal(t, a.csrf, a.pageCSRF("/admin/campaigns"), "one token per session, on every page")

	// Log out and in again: the old session's token is dead.
	old := a.csrf
	code, _ := a.post("/admin/logout", url.Values{})
	require.Equal(t, http.StatusSeeOther, code)
	a = loginAs(t, m, "admin@example.com", "admin password 1")
	require.Equal(t, http.StatusForbidden, a.send(http.MethodPost, "/api/v1/segments", segment, "X-CSRF-Token", old))

	// Before login: one visitor's login form token does not log in another.
	v1, code := tryLogin(t, m, "nobody@example.com", "wrong password!")
	require.Equal(t, http.StatusUnauthorized, code)
	v2, code := tryLogin(t, m, "nobody@example.com", "wrong password!")
	require.Equal(t, http.StatusUnauthorized, code)
	v2.csrf = v1.csrf
	code, _ = v2.post("/admin/login", url.Values{"email": {"admin@example.com"}, "password": {"admin password 1"}})
	require.Equal(t, http.StatusForbidden, code)
	// And a form posted with no visitor cookie at all is refused.
	resp, err := noRedirect.PostForm(m.URL()+"/admin/login", url.Values{"_csrf": {v1.csrf}, "email": {"admin@example.com"}, "password": {"admin password 1"}})
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
}

// TestJobsUIRefusesCrossSiteRequests drives River UI's own API (pausing a
// queue) with an admin's session cookie: reads always work; a change works
// only when the browser says it comes from Peykar's origin (Sec-Fetch-Site
// same-origin, or an Origin equal to the base URL's) or carries the
// session's CSRF token; anything else is refused and changes nothing.
func TestJobsUIRefusesCrossSiteRequests(t *testing.T) {
	t.Parallel()
	m := testMain(t, "PEYKAR_ADMIN_EMAIL", "admin@example.com", "PEYKAR_ADMIN_PASSWORD", "admin password 1")
	s := loginAs(t, m, "admin@example.com", "admin password 1")
	paused := func() bool {
		var p bool
		require.NoError(t, m.pool.QueryRow(context.Background(), `SELECT paused_at IS NOT NULL FROM river_queue WHERE name = 'default'`).Scan(&p))
		return p
	}
	const pause, resume = "/admin/jobs/api/queues/default/pause", "/admin/jobs/api/queues/default/resume"
	require.Equal(t, http.StatusOK, s.send(http.MethodGet, "/admin/jobs/api/queues", ""), "reads need no proof")

	refused := [][]string{
		{}, // no Origin, no Sec-Fetch-Site, no token
		{"Origin", "https://evil.example"},
		{"Origin", "null"},
		{"Origin", "http://peykar.test.evil.example"},
		{"Sec-Fetch-Site", "cross-site", "Origin", "http://peykar.test"},
		{"Sec-Fetch-Site", "same-site"},
		{"Sec-Fetch-Site", "none"},
		{"X-CSRF-Token", "forged"},
		{"X-CSRF-Token", loginAs(t, m, "admin@example.com", "admin password 1").csrf}, // another session's
	}
	for _, h := range refused {
		require.Equal(t, http.StatusForbidden, s.send(http.MethodPut, pause, "", h...), "%v", h)
		require.Equal(t, http.StatusForbidden, s.send(http.MethodPost, "/admin/jobs/api/jobs/cancel", `{"ids":["1"]}`, h...), "%v", h)
		require.False(t, paused(), "%v changed nothing", h)
	}

	require.Equal(t, http.StatusOK, s.send(http.MethodPut, pause, "", "Sec-Fetch-Site", "same-origin", "Origin", s.m.URL()))
	require.True(t, paused())
	require.Equal(t, http.StatusOK, s.send(http.MethodPut, resume, "", "Origin", "http://peykar.test"), "an older browser: Origin only")
	require.False(t, paused())
	require.Equal(t, http.StatusOK, s.send(http.MethodPut, pause, "", "X-CSRF-Token", s.csrf))
	require.True(t, paused())

	// An API token is no browser's ambient credential: it needs no proof.
	admin := testToken(t, m, auth.RoleAdmin)
	code, body := do(t, m, http.MethodPut, resume, admin, nil)
	require.Equal(t, http.StatusOK, code, body)
	require.False(t, paused())
}
