package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/internal/auth"
)

// browserSession is a cookie-carrying client logged in through the form.
type browserSession struct {
	t      *testing.T
	m      *Main
	client *http.Client
	csrf   string
}

// loginAs logs in through the login form; it fails the test unless the
// login succeeds.
func loginAs(t *testing.T, m *Main, email, password string) *browserSession {
	t.Helper()
	s, code := tryLogin(t, m, email, password)
	require.Equal(t, http.StatusSeeOther, code, "login as %s", email)
	return s
}

func tryLogin(t *testing.T, m *Main, email, password string) (*browserSession, int) {
	t.Helper()
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	s := &browserSession{t: t, m: m, client: &http.Client{Jar: jar, CheckRedirect: noRedirect.CheckRedirect}}
	code, body := s.get("/admin/login")
	require.Equal(t, http.StatusOK, code)
	match := regexp.MustCompile(`name="_csrf" value="([^"]+)"`).FindStringSubmatch(body)
	require.NotNil(t, match)
	s.csrf = match[1]
	code, _ = s.post("/admin/login", url.Values{"email": {email}, "password": {password}})
	if code == http.StatusSeeOther {
		s.csrf = s.pageCSRF("/admin/account") // logging in changed the token
	}
	return s, code
}

// pageCSRF returns the CSRF token of the page at path.
func (s *browserSession) pageCSRF(path string) string {
	s.t.Helper()
	code, body := s.get(path)
	require.Equal(s.t, http.StatusOK, code, path)
	match := regexp.MustCompile(`<meta name="csrf-token" content="([^"]+)">`).FindStringSubmatch(body)
	require.NotNil(s.t, match, "%s has a CSRF token", path)
	return match[1]
}

func (s *browserSession) get(path string) (int, string) {
	s.t.Helper()
	resp, err := s.client.Get(s.m.URL() + path)
	require.NoError(s.t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Location") + string(b)
}

func (s *browserSession) post(path string, form url.Values) (int, string) {
	s.t.Helper()
	form.Set("_csrf", s.csrf)
	resp, err := s.client.PostForm(s.m.URL()+path, form)
	require.NoError(s.t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Location") + string(b)
}

// TestUsersPasswordsAndRoles: a user changes their own password (others of
// their sessions end), an admin resets a password and changes roles (never
// leaving no admin), deleting a user revokes their tokens.
func TestUsersPasswordsAndRoles(t *testing.T) {
	t.Parallel()
	m := testMain(t, "PEYKAR_ADMIN_EMAIL", "admin@example.com", "PEYKAR_ADMIN_PASSWORD", "admin password 1")
	ctx := context.Background()
	admin := loginAs(t, m, "admin@example.com", "admin password 1")
	code, body := admin.post("/admin/users", url.Values{"email": {"mina@example.com"}, "password": {"mina password 1"}, "role": {"marketer"}})
	require.Equal(t, http.StatusSeeOther, code, body)
	var minaID int64
	require.NoError(t, m.pool.QueryRow(ctx, `SELECT id FROM users WHERE email = 'mina@example.com'`).Scan(&minaID))
	mina := strconv.FormatInt(minaID, 10)

	// Mina changes her own password from one browser; the other is logged out.
	here := loginAs(t, m, "mina@example.com", "mina password 1")
	there := loginAs(t, m, "mina@example.com", "mina password 1")
	code, body = here.get("/admin/account")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, "Change your password")
	code, body = here.post("/admin/account/password", url.Values{"current_password": {"wrong password!"}, "new_password": {"mina password 2"}, "confirm_password": {"mina password 2"}})
	require.Equal(t, http.StatusUnprocessableEntity, code)
	require.Contains(t, body, `id="current_password-err"`)
	code, body = here.post("/admin/account/password", url.Values{"current_password": {"mina password 1"}, "new_password": {"mina password 2"}, "confirm_password": {"other"}})
	require.Equal(t, http.StatusUnprocessableEntity, code)
	require.Contains(t, body, `id="confirm_password-err"`)
	code, body = here.post("/admin/account/password", url.Values{"current_password": {"mina password 1"}, "new_password": {"mina password 2"}, "confirm_password": {"mina password 2"}})
	require.Equal(t, http.StatusOK, code, body)
	require.Contains(t, body, "Your password is changed")
	code, _ = here.get("/admin/contacts")
	require.Equal(t, http.StatusOK, code, "the browser that changed it stays logged in")
	code, body = there.get("/admin/contacts")
	require.Equal(t, http.StatusSeeOther, code, "the other session ended")
	require.True(t, strings.HasPrefix(body, "/admin/login"), body)
	_, code = tryLogin(t, m, "mina@example.com", "mina password 1")
	require.Equal(t, http.StatusUnauthorized, code)

	// An API token is not a person: it cannot change a password.
	marketer := testToken(t, m, auth.RoleMarketer)
	req, _ := http.NewRequest(http.MethodPost, m.URL()+"/admin/account/password", strings.NewReader(url.Values{"current_password": {"x"}, "new_password": {"long enough pw"}, "confirm_password": {"long enough pw"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer "+marketer)
	resp, err := noRedirect.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusForbidden, resp.StatusCode)

	// The admin resets Mina's password: her session ends.
	code, body = admin.post("/admin/users/"+mina+"/password", url.Values{"password": {"short"}})
	require.Equal(t, http.StatusUnprocessableEntity, code)
	require.Contains(t, body, `id="password-`+mina+`-err"`)
	code, body = admin.post("/admin/users/"+mina+"/password", url.Values{"password": {"mina password 3"}})
	require.Equal(t, http.StatusOK, code, body)
	code, _ = here.get("/admin/contacts")
	require.Equal(t, http.StatusSeeOther, code, "a reset ends the user's sessions")
	here = loginAs(t, m, "mina@example.com", "mina password 3")
	code, _ = admin.get("/admin/users")
	require.Equal(t, http.StatusOK, code, "the admin's own session is untouched")

	// Roles: the last admin cannot be demoted or deleted.
	var adminID int64
	require.NoError(t, m.pool.QueryRow(ctx, `SELECT id FROM users WHERE email = 'admin@example.com'`).Scan(&adminID))
	code, body = admin.post("/admin/users/"+strconv.FormatInt(adminID, 10)+"/role", url.Values{"role": {"manager"}})
	require.Equal(t, http.StatusConflict, code)
	require.Contains(t, body, "last admin")
	code, _ = admin.post("/admin/users/"+strconv.FormatInt(adminID, 10)+"/delete", url.Values{})
	require.Equal(t, http.StatusConflict, code)
	code, _ = here.get("/admin/users")
	require.Equal(t, http.StatusForbidden, code, "a marketer")
	code, _ = admin.post("/admin/users/"+mina+"/role", url.Values{"role": {"admin"}})
	require.Equal(t, http.StatusSeeOther, code)
	code, _ = here.get("/admin/users")
	require.Equal(t, http.StatusOK, code, "the new role applies to her live session")

	// Deleting Mina revokes the tokens she created.
	_, minaToken, err := auth.CreateToken(ctx, m.pool, "mina's script", auth.RoleMarketer, minaID)
	require.NoError(t, err)
	code, _ = do(t, m, http.MethodGet, "/api/v1/campaigns", minaToken, nil)
	require.Equal(t, http.StatusOK, code)
	code, _ = admin.post("/admin/users/"+mina+"/delete", url.Values{})
	require.Equal(t, http.StatusSeeOther, code)
	code, _ = do(t, m, http.MethodGet, "/api/v1/campaigns", minaToken, nil)
	require.Equal(t, http.StatusUnauthorized, code, "a deleted user's token no longer works")
	code, _ = here.get("/admin/contacts")
	require.Equal(t, http.StatusSeeOther, code, "nor her session")
}

// TestUserResetPasswordCommand is the way back in for a forgotten admin
// password.
func TestUserResetPasswordCommand(t *testing.T) {
	t.Parallel()
	m := testMain(t, "PEYKAR_ADMIN_EMAIL", "admin@example.com", "PEYKAR_ADMIN_PASSWORD", "forgotten password")
	env := map[string]string{"DATABASE_URL": m.Config.DatabaseURL, "PEYKAR_DATA_DIR": t.TempDir()}
	getenv := func(k string) string { return env[k] }
	old := loginAs(t, m, "admin@example.com", "forgotten password")

	var stdout, stderr bytes.Buffer
	code := Run(context.Background(), []string{"user", "reset-password", "--email", "Admin@Example.com"}, getenv, &stdout, &stderr)
	require.Equal(t, 0, code, stderr.String())
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	password := lines[len(lines)-1]
	require.GreaterOrEqual(t, len(password), auth.MinPasswordLength, stdout.String())

	_, status := tryLogin(t, m, "admin@example.com", "forgotten password")
	require.Equal(t, http.StatusUnauthorized, status)
	loginAs(t, m, "admin@example.com", password)
	status, _ = old.get("/admin/users")
	require.Equal(t, http.StatusSeeOther, status, "old sessions end")

	stderr.Reset()
	require.Equal(t, 1, Run(context.Background(), []string{"user", "reset-password", "--email", "nobody@example.com"}, getenv, io.Discard, &stderr))
	require.Contains(t, stderr.String(), "nobody@example.com")
	for _, args := range [][]string{{"user"}, {"user", "reset-password"}, {"user", "delete", "--email", "a@b.c"}} {
		stderr.Reset()
		require.Equal(t, 2, Run(context.Background(), args, getenv, io.Discard, &stderr), "%v", args)
		require.NotEmpty(t, stderr.String())
	}
}
