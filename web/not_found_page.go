package web

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// notFoundRoute answers every /admin URL no page does with the layout's
// error page in the user's language, instead of the API's JSON 404. It
// replaces the catch-all Echo's group adds for its middleware, so the
// login check still runs first: a visitor who is not signed in is sent to
// the login page, not told which pages exist.
func (u *UI) notFoundRoute(admin *echo.Group) {
	admin.RouteNotFound("/*", u.notFound)
}

// notFound is the translated 404 page.
func (u *UI) notFound(c echo.Context) error {
	return u.render(c, http.StatusNotFound, "error", pageData{Title: u.t(c, "error.title"), Data: u.t(c, "error.not_found")})
}
