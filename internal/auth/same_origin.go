package auth

import (
	"log/slog"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/peykar/peykar/internal/errs"
)

// ErrCrossSite answers a state-changing request that SameOrigin cannot
// trace to Peykar's own pages.
var ErrCrossSite = errs.New(errs.Forbidden, "cross-site request refused: make changes from Peykar's own pages")

// SameOrigin guards pages whose scripts cannot send the CSRF token (River
// UI): a state-changing request (any method but GET, HEAD, OPTIONS and
// TRACE) made with a session cookie must come from Peykar's own pages, as
// the browser tells: Sec-Fetch-Site "same-origin"; or, from a browser too
// old to send that header, an Origin equal to Config.Origin; or else a
// valid X-CSRF-Token header. A request with none of these, or that a
// browser marks as coming from another site, is refused with 403 and
// ErrCrossSite. Requests with an API token pass: a browser never adds one.
func (a *Auth) SameOrigin() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if safeMethod(c.Request().Method) {
				return next(c)
			}
			if id, ok := FromContext(c); ok && id.ViaToken() {
				return next(c)
			}
			if !a.sameOrigin(c) && !a.validCSRFHeader(c) {
				a.cfg.Logger.WarnContext(c.Request().Context(), "cross-site request refused",
					slog.String("method", c.Request().Method), slog.String("path", c.Request().URL.Path),
					slog.String("origin", c.Request().Header.Get("Origin")), slog.String("sec_fetch_site", c.Request().Header.Get("Sec-Fetch-Site")),
					slog.String("ip", c.RealIP()))
				return ErrCrossSite
			}
			return next(c)
		}
	}
}

// sameOrigin reports whether the browser says the request comes from a
// page of Peykar's own origin.
func (a *Auth) sameOrigin(c echo.Context) bool {
	h := c.Request().Header
	if site := h.Get("Sec-Fetch-Site"); site != "" {
		return site == "same-origin"
	}
	origin := h.Get("Origin")
	return origin != "" && origin != "null" && a.cfg.Origin != "" && strings.EqualFold(origin, a.cfg.Origin)
}
