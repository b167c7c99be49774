package main

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/peykar/peykar/internal/httpapi"
	"github.com/peykar/peykar/tracking"
)

// newHotEcho is an Echo serving the click and the open pixel alone, with
// the same middleware instances (request metrics, access log, request id,
// recovery, body limit, security headers: one set of metric series), error
// handler and client-address rule as e, but with their chain composed once
// at start-up instead of for each request as e.Use's is (issue 22: the
// clicks come thousands a second). e keeps these routes too.
func (m *Main) newHotEcho(e *echo.Echo, mws []echo.MiddlewareFunc) *echo.Echo {
	hot := echo.New()
	hot.HideBanner, hot.HidePort = true, true
	hot.Logger.SetOutput(discard{})
	hot.IPExtractor = e.IPExtractor
	hot.HTTPErrorHandler = e.HTTPErrorHandler
	m.tracking.HotRoutes(hot, func(h echo.HandlerFunc) echo.HandlerFunc { return httpapi.Compose(h, mws...) })
	return hot
}

// hotFront sends the click and open requests (tracking.IsHot) to hot and
// everything else to all.
type hotFront struct {
	hot, all http.Handler
}

func (f hotFront) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if tracking.IsHot(r) {
		f.hot.ServeHTTP(w, r)
		return
	}
	f.all.ServeHTTP(w, r)
}
