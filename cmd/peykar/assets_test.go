package main

import (
	"net/http"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/internal/auth"
)

// TestLoginPageAssetsArePublic loads the login page as a first-time
// visitor (no cookie) and then every stylesheet and script it links: each
// is served, with its own type, not a redirect to the login page.
func TestLoginPageAssetsArePublic(t *testing.T) {
	t.Parallel()
	m := testMain(t)
	code, page := do(t, m, http.MethodGet, "/admin/login", "", nil)
	require.Equal(t, http.StatusOK, code)
	links := regexp.MustCompile(`(?:href|src)="(/admin/assets/[^"]+)"`).FindAllStringSubmatch(page, -1)
	require.Len(t, links, 4, "the login page loads app.css, the favicon, htmx and app.js")
	types := map[string]string{".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".svg": "image/svg+xml"}
	for _, l := range links {
		resp, err := noRedirect.Get(m.URL() + l[1])
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode, l[1])
		require.Equal(t, types[regexp.MustCompile(`\.[a-z]+$`).FindString(l[1])], resp.Header.Get("Content-Type"), l[1])
		require.Empty(t, resp.Cookies(), "%s sets no cookie: it runs no session or CSRF middleware", l[1])

		// A browser revalidates with the ETag and gets 304.
		req, _ := http.NewRequest(http.MethodGet, m.URL()+l[1], nil)
		req.Header.Set("If-None-Match", resp.Header.Get("ETag"))
		again, err := noRedirect.Do(req)
		require.NoError(t, err)
		again.Body.Close()
		require.Equal(t, http.StatusNotModified, again.StatusCode, l[1])
	}
}

// TestNoDirectoryListings asks the asset routes for directories and for
// paths that climb out of them: all answer 404, logged in or not, while
// the files themselves are served.
func TestNoDirectoryListings(t *testing.T) {
	t.Parallel()
	m := testMain(t)
	admin := testToken(t, m, auth.RoleAdmin)
	for _, path := range []string{
		"/admin/assets/", "/admin/assets/.", "/admin/assets/%2e%2e/login", "/admin/assets//app.css", "/admin/assets/nope.css",
		"/admin/api/assets/", "/admin/api/assets/redoc", "/admin/api/assets/redoc/", "/admin/api/assets/redoc/%2e%2e/",
	} {
		code, body := do(t, m, http.MethodGet, path, admin, nil)
		require.Equal(t, http.StatusNotFound, code, "%s: %s", path, body)
		require.NotContains(t, body, "redoc.standalone.js", path)
	}
	code, _ := do(t, m, http.MethodGet, "/admin/api/assets/redoc/redoc.standalone.js", admin, nil)
	require.Equal(t, http.StatusOK, code)
	code, _ = do(t, m, http.MethodGet, "/admin/api/assets/redoc/redoc.standalone.js", "", nil)
	require.Equal(t, http.StatusSeeOther, code, "the API reference's assets stay behind the login")
}
