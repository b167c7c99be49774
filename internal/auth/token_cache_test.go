package auth_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/internal/auth"
	"github.com/peykar/peykar/internal/httpapi"
	"github.com/peykar/peykar/migrations/pgtest"
)

// TestRevokedTokenStopsAtOnce: a token's lookup is cached for API bursts,
// but revoking it in this process stops it on the very next request, and
// a revoked token is never cached as live.
func TestRevokedTokenStopsAtOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	a := auth.New(auth.Config{Pool: pool})
	e := echo.New()
	e.HTTPErrorHandler = httpapi.ErrorHandler(nil)
	e.GET("/who", func(c echo.Context) error {
		id, ok := auth.FromContext(c)
		if !ok {
			return c.NoContent(http.StatusNoContent)
		}
		return c.String(http.StatusOK, id.Email)
	}, a.Identify())
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	call := func(secret string) int {
		req, err := http.NewRequest(http.MethodGet, srv.URL+"/who", nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+secret)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	tok, secret, err := auth.CreateToken(ctx, pool, "ci", auth.RoleManager, 0)
	require.NoError(t, err)
	other, otherSecret, err := auth.CreateToken(ctx, pool, "other", auth.RoleManager, 0)
	require.NoError(t, err)
	for range 3 {
		require.Equal(t, http.StatusOK, call(secret))
		require.Equal(t, http.StatusOK, call(otherSecret))
	}
	require.NoError(t, auth.RevokeToken(ctx, pool, tok.ID))
	require.Equal(t, http.StatusUnauthorized, call(secret), "revoked: refused at once despite the cache")
	require.Equal(t, http.StatusOK, call(otherSecret), "the other token still works")
	require.NoError(t, auth.RevokeToken(ctx, pool, other.ID))
	require.Equal(t, http.StatusUnauthorized, call(otherSecret))
	require.Equal(t, http.StatusUnauthorized, call("pyk_unknown"))
}
