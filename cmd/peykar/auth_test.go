package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/internal/auth"
	"github.com/peykar/peykar/migrations/pgtest"
)

// testToken creates an API token with role in m's database.
func testToken(t *testing.T, m *Main, role auth.Role) string {
	t.Helper()
	_, secret, err := auth.CreateToken(context.Background(), m.pool, "test "+string(role), role, 0)
	require.NoError(t, err)
	return secret
}

// noRedirect is a client that shows redirects instead of following them.
var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// do sends method path (relative to m.URL()) with the API token (if not
// empty) and a JSON body (if not nil) and returns the status and body.
// Redirects are not followed.
func do(t *testing.T, m *Main, method, path, token string, body any) (int, string) {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		require.NoError(t, err)
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, m.URL()+path, r)
	require.NoError(t, err)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := noRedirect.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	if loc := resp.Header.Get("Location"); loc != "" {
		return resp.StatusCode, loc
	}
	return resp.StatusCode, string(b)
}

// getAuth GETs url with an API token.
func getAuth(url, token string) (*http.Response, error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	return http.DefaultClient.Do(req)
}

// publicRoutes are the route patterns that need no credentials, listed
// one by one on purpose: health, metrics, the login and setup pages, and
// the CSS and JavaScript those pages load. A new public route fails
// TestEveryRouteRequiresAuth until it is added here.
var publicRoutes = map[string]bool{
	"/healthz": true, "/readyz": true, "/metrics": true,
	"/admin/login": true, "/admin/setup": true, "/admin/assets/*": true,
	"/favicon.ico": true,
	// Signup forms: public by design (a signed token guards each submit and confirmation).
	"/f/:id": true, "/f/:id/thanks": true,
	"/f/confirm/:token": true,
}

// managerMayPost are the POST routes that change nothing (previews and
// counts whose input is a body), which the read-only manager may call;
// listed one by one so a new one is a decision.
var managerMayPost = map[string]bool{
	"/api/v1/templates/preview": true, "/api/v1/templates/:id/preview": true, "/api/v1/segments/preview": true,
}

// publicRoute reports whether a route needs no credentials: one of
// publicRoutes, or a tracking endpoint (a signed token is its credential).
func publicRoute(path string) bool {
	return publicRoutes[path] || strings.HasPrefix(path, "/t/")
}

// concrete turns a route pattern into a path that matches it.
func concrete(pattern string) string {
	parts := strings.Split(pattern, "/")
	for i, p := range parts {
		if strings.HasPrefix(p, ":") {
			parts[i] = "1"
		} else if p == "*" {
			parts[i] = "x"
		}
	}
	return strings.Join(parts, "/")
}

// routeMethod is the method to request a route with (catch-all not-found
// routes, which groups add to run their middleware, answer any method).
func routeMethod(m string, fallback string) string {
	if m == "echo_route_not_found" {
		return fallback
	}
	return m
}

// TestEveryRouteRequiresAuth walks the whole route table of the real Main.
func TestEveryRouteRequiresAuth(t *testing.T) {
	t.Parallel()
	m := testMain(t)
	manager := testToken(t, m, auth.RoleManager)
	marketer := testToken(t, m, auth.RoleMarketer)
	routes := m.echo.Routes()
	require.NotEmpty(t, routes)
	checked := 0
	for _, r := range routes {
		if r.Method == http.MethodConnect {
			continue
		}
		if publicRoute(r.Path) {
			if strings.HasPrefix(r.Path, "/admin") {
				require.True(t, auth.IsPublic(r.Path), "%s is public here but auth.IsPublic disagrees", r.Path)
			}
			continue
		}
		require.False(t, auth.IsPublic(r.Path), "auth.IsPublic(%s) but the route is not listed as public", r.Path)
		api := strings.HasPrefix(r.Path, "/api/v1")
		admin := r.Path == "/admin" || strings.HasPrefix(r.Path, "/admin/")
		require.True(t, api || admin, "route %s %s is neither public, /api/v1 nor /admin: decide who may use it", r.Method, r.Path)
		path := concrete(r.Path)
		method := routeMethod(r.Method, http.MethodGet)
		name := method + " " + r.Path

		code, body := do(t, m, method, path, "", nil)
		if api {
			require.Equal(t, http.StatusUnauthorized, code, "%s without credentials: %s", name, body)
		} else {
			require.Equal(t, http.StatusSeeOther, code, "%s without credentials", name)
			require.True(t, strings.HasPrefix(body, "/admin/login?next="), "%s redirects to %s", name, body)
		}
		code, _ = do(t, m, method, path, "pyk_not-a-real-token", nil)
		require.Equal(t, http.StatusUnauthorized, code, "%s with an unknown token", name)

		method = routeMethod(r.Method, http.MethodPost)
		if method != http.MethodGet && method != http.MethodHead && r.Path != "/admin/logout" && !managerMayPost[r.Path] {
			code, body = do(t, m, method, path, manager, nil)
			require.Equal(t, http.StatusForbidden, code, "%s as manager: %s", name, body)
		}
		if strings.HasPrefix(r.Path, "/admin/jobs") || strings.HasPrefix(r.Path, "/admin/users") || strings.HasPrefix(r.Path, "/admin/tokens") {
			code, _ = do(t, m, method, path, marketer, nil)
			require.Equal(t, http.StatusForbidden, code, "%s as marketer", name)
		}
		checked++
	}
	t.Logf("checked %d routes", checked)
	require.Greater(t, checked, 30)

	// The manager may read.
	code, body := do(t, m, http.MethodGet, "/api/v1/campaigns", manager, nil)
	require.Equal(t, http.StatusOK, code, body)
}

// TestLoginSessionAndCSRF logs in through the form, then uses the session
// cookie: unsafe requests need the CSRF token, API tokens do not.
func TestLoginSessionAndCSRF(t *testing.T) {
	t.Parallel()
	m := testMain(t, "PEYKAR_ADMIN_EMAIL", "Admin@Example.com", "PEYKAR_ADMIN_PASSWORD", "correct horse battery")
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	client := &http.Client{Jar: jar, CheckRedirect: noRedirect.CheckRedirect}

	// csrf reads the token of the login page, or, once logged in, of the
	// account page.
	csrf := func() string {
		resp, err := client.Get(m.URL() + "/admin/login")
		require.NoError(t, err)
		if resp.StatusCode == http.StatusSeeOther {
			resp.Body.Close()
			resp, err = client.Get(m.URL() + "/admin/account")
			require.NoError(t, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		match := regexp.MustCompile(`name="_csrf" value="([^"]+)"`).FindSubmatch(b)
		require.NotNil(t, match, "the page has a CSRF field")
		return string(match[1])
	}
	token := csrf()

	// A login without the CSRF token is refused.
	resp, err := client.PostForm(m.URL()+"/admin/login", url.Values{"email": {"admin@example.com"}, "password": {"correct horse battery"}})
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)

	// A wrong password is refused.
	resp, err = client.PostForm(m.URL()+"/admin/login", url.Values{"_csrf": {token}, "email": {"admin@example.com"}, "password": {"wrong password!"}})
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)

	resp, err = client.PostForm(m.URL()+"/admin/login", url.Values{"_csrf": {token}, "email": {"admin@example.com"}, "password": {"correct horse battery"}, "next": {"/admin/outbox"}})
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	require.Equal(t, "/admin/outbox", resp.Header.Get("Location"))
	var session *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == auth.SessionCookie {
			session = c
		}
	}
	require.NotNil(t, session)
	require.True(t, session.HttpOnly)
	require.Equal(t, http.SameSiteLaxMode, session.SameSite)
	require.False(t, session.Secure, "base URL is http")
	var stored int
	require.NoError(t, m.pool.QueryRow(context.Background(), `SELECT count(*) FROM sessions WHERE token_hash = sha256(convert_to($1, 'UTF8'))`, session.Value).Scan(&stored))
	require.Equal(t, 1, stored, "the session is stored hashed")

	resp, err = client.Get(m.URL() + "/api/v1/campaigns")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, "the session cookie authenticates API calls")

	post := func(header string) int {
		req, _ := http.NewRequest(http.MethodPost, m.URL()+"/api/v1/segments", strings.NewReader(`{"name":"s","rule":"true"}`))
		req.Header.Set("Content-Type", "application/json")
		if header != "" {
			req.Header.Set("X-CSRF-Token", header)
		}
		resp, err := client.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	require.Equal(t, http.StatusBadRequest, post(""), "no CSRF token")
	require.Equal(t, http.StatusForbidden, post("forged"), "wrong CSRF token")
	require.Equal(t, http.StatusForbidden, post(token), "the token from before the login no longer works")
	fresh := csrf()
	require.NotEqual(t, token, fresh, "logging in rotated the token")
	require.Equal(t, http.StatusCreated, post(fresh))

	// Logging out ends the session in the database.
	resp, err = client.PostForm(m.URL()+"/admin/logout", url.Values{"_csrf": {fresh}})
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	code, _ := do(t, m, http.MethodGet, "/api/v1/campaigns", "", nil)
	require.Equal(t, http.StatusUnauthorized, code)
	req, _ := http.NewRequest(http.MethodGet, m.URL()+"/api/v1/campaigns", nil)
	req.AddCookie(session)
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode, "the old session cookie no longer works")
}

func TestSecureCookiesOnHTTPS(t *testing.T) {
	t.Parallel()
	m := testMain(t, "PEYKAR_BASE_URL", "https://peykar.example", "PEYKAR_ADMIN_EMAIL", "a@example.com", "PEYKAR_ADMIN_PASSWORD", "correct horse battery")
	resp, err := http.Get(m.URL() + "/admin/login")
	require.NoError(t, err)
	resp.Body.Close()
	require.NotEmpty(t, resp.Cookies())
	for _, c := range resp.Cookies() {
		require.True(t, c.Secure, c.Name)
		require.True(t, c.HttpOnly, c.Name)
	}
}

func TestTokenCreateCommand(t *testing.T) {
	t.Parallel()
	dsn := pgtest.NewDSN(t)
	env := map[string]string{"DATABASE_URL": dsn, "PEYKAR_DATA_DIR": t.TempDir()}
	var stdout, stderr bytes.Buffer
	code := Run(context.Background(), []string{"token", "create", "--role", "manager", "--name", "grafana"}, func(k string) string { return env[k] }, &stdout, &stderr)
	require.Equal(t, 0, code, stderr.String())
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	secret := lines[len(lines)-1]
	require.True(t, strings.HasPrefix(secret, auth.TokenPrefix), secret)

	m := testMain(t, "DATABASE_URL", dsn)
	code, body := do(t, m, http.MethodGet, "/api/v1/campaigns", secret, nil)
	require.Equal(t, http.StatusOK, code, body)
	code, _ = do(t, m, http.MethodPost, "/api/v1/segments", secret, map[string]string{"name": "s", "rule": "true"})
	require.Equal(t, http.StatusForbidden, code)

	for _, args := range [][]string{{"token"}, {"token", "create", "--role", "king", "--name", "x"}, {"token", "create", "--role", "admin"}} {
		stderr.Reset()
		code := Run(context.Background(), args, func(k string) string { return env[k] }, io.Discard, &stderr)
		require.Equal(t, 2, code, fmt.Sprint(args))
		require.NotEmpty(t, stderr.String())
	}
}

// TestSetupLinkCreatesFirstAdmin follows the one-time setup link printed
// when no user exists: it creates the admin, logs them in, and is spent.
func TestSetupLinkCreatesFirstAdmin(t *testing.T) {
	t.Parallel()
	m := testMain(t)
	ctx := context.Background()
	secret, err := auth.Bootstrap(ctx, m.pool, "", "") // as Run does when no user exists
	require.NoError(t, err)
	require.NotEmpty(t, secret)

	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	client := &http.Client{Jar: jar, CheckRedirect: noRedirect.CheckRedirect}
	resp, err := client.Get(m.URL() + "/admin/setup?token=" + url.QueryEscape(secret))
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	match := regexp.MustCompile(`name="_csrf" value="([^"]+)"`).FindSubmatch(b)
	require.NotNil(t, match)
	csrf := string(match[1])

	form := url.Values{"_csrf": {csrf}, "token": {secret}, "email": {"first@example.com"}, "password": {"first admin password"}}
	resp, err = client.PostForm(m.URL()+"/admin/setup", form)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	resp, err = client.Get(m.URL() + "/admin/users")
	require.NoError(t, err)
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, "logged in as the new admin")
	require.Contains(t, string(b), "first@example.com")

	resp, err = client.PostForm(m.URL()+"/admin/setup", url.Values{"_csrf": {csrf}, "token": {secret}, "email": {"second@example.com"}, "password": {"second admin password"}})
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusForbidden, resp.StatusCode, "the token from before the login no longer works")
	resp, err = client.Get(m.URL() + "/admin/setup?token=" + url.QueryEscape(secret))
	require.NoError(t, err)
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	match = regexp.MustCompile(`<meta name="csrf-token" content="([^"]+)">`).FindSubmatch(b)
	require.NotNil(t, match)
	resp, err = client.PostForm(m.URL()+"/admin/setup", url.Values{"_csrf": {string(match[1])}, "token": {secret}, "email": {"second@example.com"}, "password": {"second admin password"}})
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode, "the link is spent")
	n, err := auth.CountUsers(ctx, m.pool)
	require.NoError(t, err)
	require.Equal(t, 1, n)
}

// TestFirstRunPrintsSetupLink checks Run prints the link when no user exists.
func TestFirstRunPrintsSetupLink(t *testing.T) {
	t.Parallel()
	env := map[string]string{"DATABASE_URL": pgtest.NewDSN(t), "PEYKAR_ADDR": "127.0.0.1:0", "PEYKAR_DATA_DIR": t.TempDir(), "PEYKAR_BASE_URL": "https://mail.shop.example"}
	cfg, _, err := LoadConfig(nil, func(k string) string { return env[k] }, io.Discard)
	require.NoError(t, err)
	var stdout bytes.Buffer
	m := NewMain(cfg, &stdout, testWriter{t})
	require.NoError(t, m.Run(context.Background()))
	t.Cleanup(func() { require.NoError(t, m.Close()) })
	require.Regexp(t, `Create the first admin at \(one-time link\): https://mail\.shop\.example/admin/setup\?token=setup_[A-Za-z0-9_-]{43}\n`, stdout.String())
}
