// Package web is Peykar's server-rendered admin UI: html/template layouts
// and pages, CSS, vendored htmx and the message catalogue, all embedded in
// the binary. Register mounts the pages on the /admin group; the pages call
// the domain packages' store functions and services for data and hold only
// presentation. Every user-visible string comes from the catalogue
// (i18n/en.json), keyed by id, so a translation can be added beside it.
package web

import (
	"embed"
	"io/fs"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/peykar/peykar/internal/httpapi"
)

//go:embed templates static i18n
var assets embed.FS

// Assets serves the CSS and JavaScript on g (/admin/assets). They are
// public: the login page needs them before anyone has logged in, so mount g
// without the pages' login middleware. A directory answers 404.
func Assets(g *echo.Group) {
	g.GET("/*", httpapi.Files(Static(), "no-cache"))
}

// EmailAssetsPath is where, under Peykar's public base URL, the images of
// the starter templates are served (static/email, public like the rest of
// /admin/assets): mail clients fetch them from there.
const EmailAssetsPath = "/admin/assets/email"

// Static returns the CSS and JavaScript served under /admin/assets.
func Static() fs.FS {
	sub, err := fs.Sub(assets, "static")
	if err != nil {
		panic(err) // the directory is embedded above
	}
	return sub
}

// Favicon answers /favicon.ico, which browsers ask for at the site's root
// whatever the page says; the pages link the SVG beside it. It is public.
func Favicon(c echo.Context) error {
	b, err := fs.ReadFile(assets, "static/favicon.ico")
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderCacheControl, "public, max-age=86400")
	return c.Blob(http.StatusOK, "image/x-icon", b)
}
