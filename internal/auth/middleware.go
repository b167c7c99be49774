package auth

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/peykar/peykar/internal/errs"
)

// Identity is who made a request: a logged-in user, or an API token.
type Identity struct {
	UserID  int64 // the user, or the token's creator (0 when made on the command line)
	Email   string
	Role    Role
	TokenID int64 // non-zero when the request carried an API token
}

// ViaToken reports whether the request was authenticated by an API token
// (no ambient credentials, so no CSRF check).
func (i Identity) ViaToken() bool { return i.TokenID != 0 }

const identityKey = "peykar.identity"

// FromContext returns the request's identity, if it has one.
func FromContext(c echo.Context) (Identity, bool) {
	id, ok := c.Get(identityKey).(Identity)
	return id, ok
}

// CSRFToken returns the token forms must send back as _csrf (and scripts
// as X-CSRF-Token): it is tied to the request's session, or before login to
// its visitor cookie (see CSRF).
func CSRFToken(c echo.Context) string {
	s, _ := c.Get(csrfContextKey).(string)
	return s
}

// Identify authenticates the request by "Authorization: Bearer" token or
// session cookie and records the identity for FromContext. A request with a
// malformed or unknown bearer token is refused with 401; one without
// credentials passes on unidentified (the Require middleware decides).
func (a *Auth) Identify() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			ctx := c.Request().Context()
			if h := c.Request().Header.Get(echo.HeaderAuthorization); h != "" {
				scheme, secret, _ := strings.Cut(h, " ")
				if !strings.EqualFold(scheme, "Bearer") || secret == "" {
					return errs.New(errs.Unauthorized, `the Authorization header must be "Bearer <token>"`)
				}
				t, err := a.tokens.lookup(ctx, a.cfg.Pool, strings.TrimSpace(secret))
				if err != nil {
					return err
				}
				id := Identity{Role: t.Role, TokenID: t.ID, Email: "token:" + t.Name}
				if t.CreatedBy != nil {
					id.UserID = *t.CreatedBy
				}
				c.Set(identityKey, id)
				return next(c)
			}
			if ck, err := c.Cookie(SessionCookie); err == nil && ck.Value != "" {
				u, err := SessionUser(ctx, a.cfg.Pool, ck.Value)
				switch {
				case err == nil:
					c.Set(identityKey, Identity{UserID: u.ID, Email: u.Email, Role: u.Role})
				case !errs.Is(err, errs.Unauthorized):
					return err
				}
			}
			return next(c)
		}
	}
}

// routePath is the route pattern Echo matched (what the handler serves),
// falling back to the request path.
func routePath(c echo.Context) string {
	if p := c.Path(); p != "" {
		return p
	}
	return c.Request().URL.Path
}

// RequireAPI answers 401 without an identity and 403 when Allowed refuses
// the role.
func (a *Auth) RequireAPI() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			id, ok := FromContext(c)
			if !ok {
				return errs.New(errs.Unauthorized, "log in or send an API token (Authorization: Bearer <token>)")
			}
			if !Allowed(id.Role, c.Request().Method, routePath(c)) {
				return ForbiddenError(id.Role, c.Request().Method, routePath(c))
			}
			return next(c)
		}
	}
}

// RequirePage sends visitors without an identity to the login page (htmx
// requests get an HX-Redirect) and answers 403 when Allowed refuses the
// role. Public pages (IsPublic) pass.
func (a *Auth) RequirePage() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			path := routePath(c)
			if IsPublic(path) {
				return next(c)
			}
			id, ok := FromContext(c)
			if !ok {
				to := a.cfg.LoginPath + "?next=" + url.QueryEscape(c.Request().URL.RequestURI())
				if c.Request().Header.Get("HX-Request") != "" {
					c.Response().Header().Set("HX-Redirect", to)
					return c.NoContent(http.StatusUnauthorized)
				}
				return c.Redirect(http.StatusSeeOther, to)
			}
			if !Allowed(id.Role, c.Request().Method, path) {
				err := ForbiddenError(id.Role, c.Request().Method, path)
				if a.forbidden != nil {
					return a.forbidden(c, err.Message)
				}
				return err
			}
			return next(c)
		}
	}
}

// API is the middleware chain of the /api/v1 group.
func (a *Auth) API() []echo.MiddlewareFunc {
	return []echo.MiddlewareFunc{a.Identify(), a.RequireAPI(), a.CSRF()}
}

// Pages is the middleware chain of the /admin group (HTML pages).
func (a *Auth) Pages() []echo.MiddlewareFunc {
	return []echo.MiddlewareFunc{a.Identify(), a.RequirePage(), a.CSRF()}
}

// Jobs is the middleware chain of the River UI under /admin/jobs: admin
// only, and its state-changing calls (retry, cancel, delete, pausing a
// queue) must come from the same origin (SameOrigin), since the UI's
// scripts cannot send our CSRF token.
func (a *Auth) Jobs() []echo.MiddlewareFunc {
	return []echo.MiddlewareFunc{a.Identify(), a.RequirePage(), a.SameOrigin()}
}
