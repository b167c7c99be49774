package httpapi_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/internal/httpapi"
)

// TestSecurityHeaders: the first rule whose prefix matches by whole path
// segments gives the policy, the default covers the rest (errors too), a
// handler may replace the policy, and HSTS comes only when asked.
func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	for _, hsts := range []bool{false, true} {
		e := echo.New()
		e.Use(httpapi.SecurityHeaders(httpapi.SecurityConfig{
			HSTS: hsts,
			Rules: []httpapi.HeaderRule{
				{Prefix: "/t", Headers: httpapi.Headers{CSP: "tracking", Referrer: "no-referrer"}},
				{Prefix: "/t/special", Headers: httpapi.Headers{CSP: "never reached"}},
			},
			Default: httpapi.Headers{CSP: "default", Referrer: "same-origin"},
		}))
		ok := func(c echo.Context) error { return c.NoContent(http.StatusNoContent) }
		e.GET("/t/*", ok)
		e.GET("/tx", ok)
		e.GET("/t/add", func(c echo.Context) error {
			// Adding to or changing a header the middleware set changes
			// this response only (its values are made in one piece).
			c.Response().Header().Add("Content-Security-Policy", "added")
			c.Response().Header()["Referrer-Policy"][0] = "changed"
			return c.NoContent(http.StatusNoContent)
		})
		e.GET("/own", func(c echo.Context) error {
			c.Response().Header().Set("Content-Security-Policy", "own")
			return c.NoContent(http.StatusNoContent)
		})
		cases := map[string][2]string{
			"/t/c/abc": {"tracking", "no-referrer"}, "/t/special/x": {"tracking", "no-referrer"},
			"/tx": {"default", "same-origin"}, "/missing": {"default", "same-origin"}, "/own": {"own", "same-origin"},
		}
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/t/add", nil))
		require.Equal(t, []string{"tracking", "added"}, rec.Header().Values("Content-Security-Policy"))
		for path, want := range cases {
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
			h := rec.Header()
			require.Equal(t, want[0], h.Get("Content-Security-Policy"), path)
			require.Equal(t, want[1], h.Get("Referrer-Policy"), path)
			require.Equal(t, "nosniff", h.Get("X-Content-Type-Options"), path)
			if hsts {
				require.Equal(t, httpapi.HSTSValue, h.Get("Strict-Transport-Security"), path)
			} else {
				require.Empty(t, h.Get("Strict-Transport-Security"), path)
			}
		}
	}
}
