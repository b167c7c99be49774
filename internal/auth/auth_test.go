package auth_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/internal/auth"
	"github.com/peykar/peykar/internal/errs"
	"github.com/peykar/peykar/internal/httpapi"
	"github.com/peykar/peykar/migrations/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func TestAllowed(t *testing.T) {
	t.Parallel()
	cases := []struct {
		role         auth.Role
		method, path string
		want         bool
	}{
		{auth.RoleAdmin, "POST", "/api/v1/campaigns", true},
		{auth.RoleAdmin, "GET", "/admin/jobs/x", true},
		{auth.RoleMarketer, "POST", "/api/v1/campaigns/:id/launch", true},
		{auth.RoleMarketer, "GET", "/admin/jobs", false},
		{auth.RoleMarketer, "POST", "/admin/tokens", false},
		{auth.RoleMarketer, "GET", "/admin/users", false},
		{auth.RoleManager, "GET", "/api/v1/campaigns/:id/report", true},
		{auth.RoleManager, "HEAD", "/api/v1/contacts", true},
		{auth.RoleManager, "POST", "/api/v1/segments/preview", false},
		{auth.RoleManager, "DELETE", "/api/v1/contacts/:id", false},
		{auth.RoleManager, "GET", "/admin/jobs", false},
		{auth.RoleManager, "POST", "/admin/logout", true},
		{"", "GET", "/api/v1/campaigns", false},
		{"", "POST", "/admin/logout", false},
		{auth.RoleManager, "GET", "/admin/usersx", true}, // prefix match is by path segment
	}
	for _, c := range cases {
		require.Equal(t, c.want, auth.Allowed(c.role, c.method, c.path), "%s %s %s", c.role, c.method, c.path)
	}
}

func TestUsersAndPasswords(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	u, err := auth.CreateUser(ctx, pool, " Mina@Example.COM ", "long enough secret", auth.RoleMarketer)
	require.NoError(t, err)
	require.Equal(t, "mina@example.com", u.Email)

	_, err = auth.CreateUser(ctx, pool, "mina@example.com", "another long secret", auth.RoleAdmin)
	require.True(t, errs.Is(err, errs.Conflict), err)
	_, err = auth.CreateUser(ctx, pool, "x@example.com", "short", auth.RoleAdmin)
	require.True(t, errs.Is(err, errs.Invalid), err)
	_, err = auth.CreateUser(ctx, pool, "not an email", "long enough secret", auth.RoleAdmin)
	require.True(t, errs.Is(err, errs.Invalid), err)
	_, err = auth.CreateUser(ctx, pool, "y@example.com", "long enough secret", "king")
	require.True(t, errs.Is(err, errs.Invalid), err)

	got, err := auth.Authenticate(ctx, pool, "MINA@example.com", "long enough secret")
	require.NoError(t, err)
	require.Equal(t, u.ID, got.ID)
	_, err = auth.Authenticate(ctx, pool, "mina@example.com", "wrong secret!!")
	require.ErrorIs(t, err, auth.ErrBadCredentials)
	_, err = auth.Authenticate(ctx, pool, "nobody@example.com", "long enough secret")
	require.ErrorIs(t, err, auth.ErrBadCredentials)

	var hash string
	require.NoError(t, pool.QueryRow(ctx, `SELECT password_hash FROM users WHERE id = $1`, u.ID).Scan(&hash))
	require.True(t, strings.HasPrefix(hash, "$argon2id$v=19$"), hash)
	require.NotContains(t, hash, "long enough secret")

	// The last admin stays.
	admin, err := auth.CreateUser(ctx, pool, "root@example.com", "long enough secret", auth.RoleAdmin)
	require.NoError(t, err)
	require.True(t, errs.Is(auth.DeleteUser(ctx, pool, admin.ID), errs.Conflict))
	require.NoError(t, auth.DeleteUser(ctx, pool, u.ID))
	require.True(t, errs.Is(auth.DeleteUser(ctx, pool, u.ID), errs.NotFound))
}

func TestTokens(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	tok, secret, err := auth.CreateToken(ctx, pool, "ci", auth.RoleManager, 0)
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(secret, auth.TokenPrefix))
	got, err := auth.TokenBySecret(ctx, pool, secret)
	require.NoError(t, err)
	require.Equal(t, tok.ID, got.ID)
	require.Equal(t, auth.RoleManager, got.Role)

	var stored int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM api_tokens WHERE token_hash = sha256(convert_to($1, 'UTF8'))`, secret).Scan(&stored))
	require.Equal(t, 1, stored, "stored as sha256")

	require.NoError(t, auth.RevokeToken(ctx, pool, tok.ID))
	_, err = auth.TokenBySecret(ctx, pool, secret)
	require.True(t, errs.Is(err, errs.Unauthorized))
	list, err := auth.ListTokens(ctx, pool)
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.NotNil(t, list[0].RevokedAt)
	require.True(t, errs.Is(auth.RevokeToken(ctx, pool, 999), errs.NotFound))
	_, _, err = auth.CreateToken(ctx, pool, " ", auth.RoleAdmin, 0)
	require.True(t, errs.Is(err, errs.Invalid))
}

func TestBootstrapAndSetup(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	link1, err := auth.Bootstrap(ctx, pool, "", "")
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(link1, auth.SetupPrefix))
	link2, err := auth.Bootstrap(ctx, pool, "", "")
	require.NoError(t, err)
	require.NotEqual(t, link1, link2)

	_, err = auth.CompleteSetup(ctx, pool, "setup_forged", "a@example.com", "long enough secret")
	require.True(t, errs.Is(err, errs.Unauthorized))
	_, err = auth.CompleteSetup(ctx, pool, link1, "a@example.com", "short")
	require.True(t, errs.Is(err, errs.Invalid), "bad input keeps the link usable")
	u, err := auth.CompleteSetup(ctx, pool, link1, "a@example.com", "long enough secret")
	require.NoError(t, err)
	require.Equal(t, auth.RoleAdmin, u.Role)
	_, err = auth.CompleteSetup(ctx, pool, link2, "b@example.com", "long enough secret")
	require.True(t, errs.Is(err, errs.Unauthorized), "every link is spent once an admin exists")

	link, err := auth.Bootstrap(ctx, pool, "", "")
	require.NoError(t, err)
	require.Empty(t, link, "users exist")

	other := pgtest.NewPool(t)
	link, err = auth.Bootstrap(ctx, other, "boss@example.com", "long enough secret")
	require.NoError(t, err)
	require.Empty(t, link)
	_, err = auth.Authenticate(ctx, other, "boss@example.com", "long enough secret")
	require.NoError(t, err)
}

// TestLoginRateLimits drives Login through Echo with a stopped clock, so
// that no bucket refills during the test.
func TestLoginRateLimits(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	_, err := auth.CreateUser(ctx, pool, "a@example.com", "long enough secret", auth.RoleAdmin)
	require.NoError(t, err)
	var now atomic.Int64
	now.Store(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Unix())
	a := auth.New(auth.Config{Pool: pool, AccountBurst: 3, IPBurst: 5, Now: func() time.Time { return time.Unix(now.Load(), 0) }})
	e := echo.New()
	e.HTTPErrorHandler = httpapi.ErrorHandler(nil)
	e.IPExtractor = func(r *http.Request) string { return r.Header.Get("X-Test-IP") }
	e.POST("/login", func(c echo.Context) error {
		_, err := a.Login(c, c.FormValue("email"), c.FormValue("password"))
		if err != nil {
			return err
		}
		return c.NoContent(http.StatusNoContent)
	})
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	login := func(ip, email, pw string) int {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/login", strings.NewReader(url.Values{"email": {email}, "password": {pw}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Test-IP", ip)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	// Per account: three attempts, then refused even from another IP and
	// with the right password.
	for range 3 {
		require.Equal(t, http.StatusUnauthorized, login("10.0.0.1", "a@example.com", "guess guess guess"))
	}
	require.Equal(t, http.StatusTooManyRequests, login("10.0.0.2", "A@example.com", "long enough secret"))
	// Per IP: five attempts over any accounts.
	for i := range 5 {
		require.Equal(t, http.StatusUnauthorized, login("10.0.0.9", "u"+string(rune('a'+i))+"@example.com", "guess guess guess"))
	}
	require.Equal(t, http.StatusTooManyRequests, login("10.0.0.9", "other@example.com", "guess guess guess"))
	// Time passes: the account may try again.
	now.Add(60)
	require.Equal(t, http.StatusNoContent, login("10.0.0.3", "a@example.com", "long enough secret"))
}
