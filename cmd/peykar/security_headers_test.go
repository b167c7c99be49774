package main

import (
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/internal/auth"
)

// fetch GETs path with the API token (if any) and returns the response
// with its body read.
func fetch(t *testing.T, m *Main, path, token string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, m.URL()+path, nil)
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := noRedirect.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(b)
}

// directive returns the value of one directive of a policy, "" without it.
func directive(policy, name string) string {
	for _, d := range strings.Split(policy, ";") {
		d = strings.TrimSpace(d)
		if d == name || strings.HasPrefix(d, name+" ") {
			return strings.TrimSpace(strings.TrimPrefix(d, name))
		}
	}
	return ""
}

var (
	scriptTag   = regexp.MustCompile(`(?is)<script\b([^>]*)>`)
	inlineEvent = regexp.MustCompile(`(?i)<[a-z][^>]*\son[a-z]+\s*=`)
)

// requireNoInlineScript checks an HTML page runs no script the policy
// would block: every <script> has a src or is a JSON data block, and no
// element has an on* event attribute.
func requireNoInlineScript(t *testing.T, name, html string) {
	t.Helper()
	for _, m := range scriptTag.FindAllStringSubmatch(html, -1) {
		attrs := m[1]
		ok := strings.Contains(attrs, "src=") || strings.Contains(attrs, `type="application/json"`)
		require.True(t, ok, "%s has an inline script: %s", name, m[0])
	}
	require.False(t, inlineEvent.MatchString(html), "%s has an inline event handler: %s", name, inlineEvent.FindString(html))
}

// TestSecurityHeadersOnEveryResponse walks the kinds of response Peykar
// gives (admin pages, public pages and their assets, the API and its HTML
// report, River UI, tracking, health, errors) and checks each carries the
// security headers, with a policy that forbids framing and inline scripts,
// and that the HTML pages really have no inline script.
func TestSecurityHeadersOnEveryResponse(t *testing.T) {
	t.Parallel()
	m := testMain(t)
	admin := testToken(t, m, auth.RoleAdmin)
	code, body := do(t, m, http.MethodPost, "/api/v1/segments", admin, map[string]string{"name": "all", "rule": "true"})
	require.Equal(t, http.StatusCreated, code, body)
	code, body = do(t, m, http.MethodPost, "/api/v1/campaigns", admin, map[string]any{"name": "Spring", "segment_id": 1, "channel": "email",
		"from": map[string]string{"name": "Shop", "email": "news@shop.example"}, "steps": []any{}})
	require.Equal(t, http.StatusCreated, code, body)

	cases := []struct {
		path, token string
		status      int
		referrer    string
		html        bool
	}{
		{"/admin/login", "", 200, "same-origin", true},
		{"/admin/setup?token=setup_x", "", 200, "no-referrer", true},
		{"/admin/assets/app.css", "", 200, "same-origin", false},
		{"/admin/campaigns", "", 303, "same-origin", false},
		{"/admin/campaigns", admin, 200, "same-origin", true},
		{"/admin/campaigns/1", admin, 200, "same-origin", true},
		{"/admin/templates/new", admin, 200, "same-origin", true},
		{"/admin/api", admin, 200, "same-origin", true},
		{"/admin/jobs/", admin, 200, "same-origin", true},
		{"/api/v1/campaigns", admin, 200, "same-origin", false},
		{"/api/v1/campaigns", "", 401, "same-origin", false},
		{"/api/v1/campaigns/1/report.html", admin, 308, "same-origin", false},
		{"/api/v1/reports/compare.html?ids=1", admin, 308, "same-origin", false},
		{"/admin/campaigns/1/live", admin, 200, "same-origin", true},
		{"/admin/reports/compare?ids=1", admin, 200, "same-origin", true},
		{"/t/c/not-a-token", "", 404, "no-referrer", false},
		{"/t/u/not-a-token", "", 404, "no-referrer", false},
		{"/healthz", "", 200, "same-origin", false},
		{"/no/such/route", "", 404, "same-origin", false},
	}
	for _, tc := range cases {
		resp, body := fetch(t, m, tc.path, tc.token)
		name := tc.path
		require.Equal(t, tc.status, resp.StatusCode, "%s: %s", name, body)
		h := resp.Header
		require.Equal(t, "nosniff", h.Get("X-Content-Type-Options"), name)
		require.Equal(t, tc.referrer, h.Get("Referrer-Policy"), name)
		require.Empty(t, h.Get("Strict-Transport-Security"), "%s: no HSTS over an http base URL", name)
		csp := h.Get("Content-Security-Policy")
		require.Equal(t, "'none'", directive(csp, "frame-ancestors"), "%s: %s", name, csp)
		require.NotEmpty(t, directive(csp, "default-src"), "%s: %s", name, csp)
		scripts := directive(csp, "script-src")
		if scripts == "" {
			scripts = directive(csp, "default-src")
		}
		require.NotContains(t, scripts, "unsafe", "%s: %s", name, csp)
		require.NotContains(t, scripts, "http", "%s: %s", name, csp)
		if tc.html {
			requireNoInlineScript(t, name, body)
		}
	}
}

// TestHSTSOnHTTPSBaseURL: with an https base URL every response, public or
// not, tells browsers to use https only.
func TestHSTSOnHTTPSBaseURL(t *testing.T) {
	t.Parallel()
	m := testMain(t, "PEYKAR_BASE_URL", "https://mail.shop.example")
	for _, path := range []string{"/admin/login", "/api/v1/campaigns", "/t/c/x", "/healthz"} {
		resp, _ := fetch(t, m, path, "")
		hsts := resp.Header.Get("Strict-Transport-Security")
		require.True(t, strings.HasPrefix(hsts, "max-age="), "%s: %q", path, hsts)
		age, err := strconv.Atoi(strings.TrimPrefix(hsts, "max-age="))
		require.NoError(t, err, hsts)
		require.GreaterOrEqual(t, age, 180*24*3600, "at least half a year")
	}
}
