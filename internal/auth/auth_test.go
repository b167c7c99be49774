package auth_test

import (
	"context"
	"fmt"
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
		// Previews and counts change nothing: a manager (read-only) may call them.
		{auth.RoleManager, "POST", "/api/v1/segments/preview", true},
		{auth.RoleManager, "POST", "/api/v1/templates/preview", true},
		{auth.RoleManager, "POST", "/api/v1/templates/:id/preview", true},
		{auth.RoleManager, "POST", "/api/v1/templates/12/preview", true},
		{auth.RoleManager, "POST", "/api/v1/templates//preview", false},
		{auth.RoleManager, "POST", "/api/v1/templates/:id/test", false}, // sends mail
		{auth.RoleManager, "POST", "/api/v1/segments", false},
		{auth.RoleManager, "PUT", "/api/v1/segments/preview", false},
		{auth.RoleManager, "GET", "/api/v1/segments/:id/count", true},
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

// TestNeededRole: a refusal names the least powerful role that may do it.
func TestNeededRole(t *testing.T) {
	t.Parallel()
	require.Equal(t, auth.RoleManager, auth.NeededRole("GET", "/api/v1/campaigns"))
	require.Equal(t, auth.RoleManager, auth.NeededRole("POST", "/api/v1/templates/:id/preview"))
	require.Equal(t, auth.RoleMarketer, auth.NeededRole("POST", "/admin/segments"))
	require.Equal(t, auth.RoleAdmin, auth.NeededRole("GET", "/admin/users"))
	err := auth.ForbiddenError(auth.RoleManager, "POST", "/api/v1/segments")
	require.Equal(t, "the manager role may not do this: it needs the marketer role", err.Message)
	require.Equal(t, "marketer", err.Details["role"])
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

// loginServer serves a.Login at POST /login through Echo, the client
// address taken from X-Test-IP; login posts there and returns the status
// and the Retry-After header.
func loginServer(t *testing.T, a *auth.Auth) func(ip, email, pw string) (int, string) {
	t.Helper()
	e := echo.New()
	e.HTTPErrorHandler = httpapi.ErrorHandler(nil)
	e.IPExtractor = func(r *http.Request) string { return r.Header.Get("X-Test-IP") }
	e.POST("/login", func(c echo.Context) error {
		if _, err := a.Login(c, c.FormValue("email"), c.FormValue("password")); err != nil {
			return err
		}
		return c.NoContent(http.StatusNoContent)
	})
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	return func(ip, email, pw string) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/login", strings.NewReader(url.Values{"email": {email}, "password": {pw}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Test-IP", ip)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode, resp.Header.Get("Retry-After")
	}
}

// TestLoginBackoff drives Login through Echo with a clock that moves only
// when the test says: an attacker's failures slow the attacker's address,
// for that account and then for every account, with waits that double and
// end; the owner logs in from their own address all along.
func TestLoginBackoff(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	_, err := auth.CreateUser(ctx, pool, "a@example.com", "long enough secret", auth.RoleAdmin)
	require.NoError(t, err)
	var now atomic.Int64
	now.Store(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Unix())
	a := auth.New(auth.Config{Pool: pool, Now: func() time.Time { return time.Unix(now.Load(), 0) },
		AccountBackoff: auth.Backoff{Free: 3, Base: 10 * time.Second, Max: 40 * time.Second, Forget: time.Hour},
		IPBackoff:      auth.Backoff{Free: 6, Base: 10 * time.Second, Max: 40 * time.Second, Forget: time.Hour}})
	login := loginServer(t, a)
	const attacker, owner, right, wrong = "10.0.0.1", "10.0.0.2", "long enough secret", "guess guess guess"

	for range 3 {
		code, _ := login(attacker, "a@example.com", wrong)
		require.Equal(t, http.StatusUnauthorized, code)
	}
	code, wait := login(attacker, "A@example.com", right)
	require.Equal(t, http.StatusTooManyRequests, code, "the attacker's address waits, even with the right password")
	require.Equal(t, "10", wait)
	code, _ = login(owner, "a@example.com", right)
	require.Equal(t, http.StatusNoContent, code, "the owner is not locked out")

	now.Add(9)
	code, wait = login(attacker, "a@example.com", wrong)
	require.Equal(t, http.StatusTooManyRequests, code)
	require.Equal(t, "1", wait)
	now.Add(1)
	code, _ = login(attacker, "a@example.com", wrong)
	require.Equal(t, http.StatusUnauthorized, code, "the wait is over")
	code, wait = login(attacker, "a@example.com", wrong)
	require.Equal(t, http.StatusTooManyRequests, code)
	require.Equal(t, "20", wait, "each further failure doubles the wait")

	// Per address: two more failures on other accounts make six from the
	// attacker's address, which then waits whatever account it tries.
	for _, email := range []string{"b@example.com", "c@example.com"} {
		code, _ = login(attacker, email, wrong)
		require.Equal(t, http.StatusUnauthorized, code)
	}
	code, wait = login(attacker, "d@example.com", wrong)
	require.Equal(t, http.StatusTooManyRequests, code)
	require.Equal(t, "10", wait)
	code, _ = login(owner, "a@example.com", right)
	require.Equal(t, http.StatusNoContent, code, "the owner still logs in from their address")

	// Waits are capped, and they end.
	for range 4 {
		now.Add(40)
		code, _ = login(attacker, "a@example.com", wrong)
		require.Equal(t, http.StatusUnauthorized, code)
	}
	_, wait = login(attacker, "a@example.com", wrong)
	require.Equal(t, "40", wait, "at most Max")
	now.Add(40)
	code, _ = login(attacker, "a@example.com", right)
	require.Equal(t, http.StatusNoContent, code, "someone who knows the password gets in once the wait is over")

	// An hour without failures forgets them.
	now.Add(3601)
	for i := range 6 {
		code, _ = login(attacker, fmt.Sprintf("x%d@example.com", i), wrong)
		require.Equal(t, http.StatusUnauthorized, code, "attempt %d after an hour", i+1)
	}
}

// TestLoginBackoffHoldsUnderConcurrency fires many wrong guesses at once
// from one address: attempts under way count against the free ones, so
// exactly as many are judged as one after another would be.
func TestLoginBackoffHoldsUnderConcurrency(t *testing.T) {
	t.Parallel()
	pool := pgtest.NewPool(t)
	_, err := auth.CreateUser(context.Background(), pool, "a@example.com", "long enough secret", auth.RoleAdmin)
	require.NoError(t, err)
	frozen := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	a := auth.New(auth.Config{Pool: pool, Now: func() time.Time { return frozen },
		AccountBackoff: auth.Backoff{Free: 3, Base: time.Minute}})
	login := loginServer(t, a)
	codes := make(chan int, 20)
	for range cap(codes) {
		go func() {
			code, _ := login("10.0.0.1", "a@example.com", "guess guess guess")
			codes <- code
		}()
	}
	count := map[int]int{}
	for range cap(codes) {
		count[<-codes]++
	}
	require.Equal(t, map[int]int{http.StatusUnauthorized: 3, http.StatusTooManyRequests: 17}, count)
}
