package httpapi

import "github.com/labstack/echo/v4"

// Compose wraps h in mws once, the first outermost, as e.Use(mws...) would
// for every request: Echo composes the middleware of e.Use (and a route's
// own) anew on every request, a closure per middleware, which the routes
// served thousands of times a second (the click and the open pixel) are
// spared by composing their chain once and registering the result with no
// middleware.
func Compose(h echo.HandlerFunc, mws ...echo.MiddlewareFunc) echo.HandlerFunc {
	for i := len(mws) - 1; i >= 0; i-- {
		h = mws[i](h)
	}
	return h
}
