package apidoc

import (
	"embed"
	"io/fs"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/peykar/peykar/internal/httpapi"
)

// Routes serves the document at GET /openapi.json on api (/api/v1).
func Routes(api *echo.Group) {
	api.GET("/openapi.json", func(c echo.Context) error {
		b, err := JSON()
		if err != nil {
			return err
		}
		c.Response().Header().Set(echo.HeaderCacheControl, "no-cache")
		return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, b)
	})
}

//go:embed assets
var assets embed.FS

// viewerPage renders the document with the vendored Redoc 3 (an ES module
// defining the <redoc> element); its licence is served beside it.
const viewerPage = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Peykar API reference</title>
<style>body{margin:0}</style>
</head>
<body>
<redoc spec-url="/api/v1/openapi.json" disable-telemetry="true"></redoc>
<script type="module" src="/admin/api/assets/redoc/redoc.standalone.js"></script>
<noscript>The API reference needs JavaScript. The document itself is at <a href="/api/v1/openapi.json">/api/v1/openapi.json</a>.</noscript>
</body>
</html>`

// Viewer serves the reference page at the group's root (/admin/api) and the
// viewer's files under /assets (Redoc and its licence).
func Viewer(g *echo.Group) {
	page := func(c echo.Context) error {
		h := c.Response().Header()
		// Redoc styles itself with generated <style> elements. Nothing leaves
		// the server: Redoc's telemetry is off, and the policy also blocks
		// its remote logo (which then falls back to none).
		h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; frame-ancestors 'none'")
		return c.HTML(http.StatusOK, viewerPage)
	}
	g.GET("", page)
	g.GET("/", page)
	sub, _ := fs.Sub(assets, "assets")
	g.GET("/assets/*", httpapi.Files(sub, "public, max-age=86400")) // a directory answers 404, never a listing
}
