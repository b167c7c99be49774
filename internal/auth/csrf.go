package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/peykar/peykar/internal/errs"
)

// VisitorCookie holds a random value that a visitor's CSRF token is
// derived from before they log in (the login and setup forms). Logging in
// clears it: from then on the token is derived from the session.
const VisitorCookie = "peykar_csrf"

// csrfContextKey is where CSRF keeps the request's token for CSRFToken.
const csrfContextKey = "csrf"

// csrfKeys are the HMAC keys of CSRF tokens: new tokens use the first, and
// each verifies.
type csrfKeys [][]byte

// newCSRFKeys derives the keys from the signing secrets (domain-separated
// from their other uses); without a secret the key is random, so tokens do
// not outlive the process.
func newCSRFKeys(secret, previous []byte) csrfKeys {
	derive := func(s []byte) []byte {
		m := hmac.New(sha256.New, s)
		m.Write([]byte("peykar csrf token v1"))
		return m.Sum(nil)
	}
	if len(secret) == 0 {
		secret = make([]byte, 32)
		_, _ = rand.Read(secret) // never fails (crypto/rand panics instead)
	}
	keys := csrfKeys{derive(secret)}
	if len(previous) > 0 {
		keys = append(keys, derive(previous))
	}
	return keys
}

func (k csrfKeys) sign(key []byte, binding string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(binding))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// token is the CSRF token for binding.
func (k csrfKeys) token(binding string) string { return k.sign(k[0], binding) }

// valid reports whether sent is binding's token under any key.
func (k csrfKeys) valid(binding, sent string) bool {
	for _, key := range k {
		if hmac.Equal([]byte(k.sign(key, binding)), []byte(sent)) {
			return true
		}
	}
	return false
}

// csrfBinding is what the request's CSRF token is tied to: the session of
// a signed-in browser, or else the visitor cookie. A safe request without
// a visitor cookie gets one (set on the response); ok is false when there
// is nothing to bind to (an unsafe request without either cookie).
func (a *Auth) csrfBinding(c echo.Context) (string, bool) {
	if id, ok := FromContext(c); ok && !id.ViaToken() {
		return "session:" + CurrentSession(c), true
	}
	if ck, err := c.Cookie(VisitorCookie); err == nil && ck.Value != "" {
		return "visitor:" + ck.Value, true
	}
	if !safeMethod(c.Request().Method) {
		return "", false
	}
	v := newSecret("")
	c.SetCookie(a.visitorCookie(v, 0))
	return "visitor:" + v, true
}

// sentCSRF is the token the request carries: the X-CSRF-Token header, or
// else the _csrf form field.
func sentCSRF(c echo.Context) string {
	if s := c.Request().Header.Get("X-CSRF-Token"); s != "" {
		return s
	}
	return c.FormValue("_csrf")
}

// CSRF checks the _csrf form field or X-CSRF-Token header of every unsafe
// request (any method but GET, HEAD, OPTIONS and TRACE) against the token
// of the request's session, or of its visitor cookie before login, and
// records the token for CSRFToken. A token of one session is refused in
// any other, and the token a visitor had before logging in stops working
// once they have. Requests with an API token are exempt: a browser never
// adds a bearer token on its own. It answers 400 without a token and 403
// with a wrong one.
func (a *Auth) CSRF() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if id, ok := FromContext(c); ok && id.ViaToken() {
				return next(c)
			}
			binding, ok := a.csrfBinding(c)
			if ok {
				c.Set(csrfContextKey, a.csrf.token(binding))
			}
			if safeMethod(c.Request().Method) {
				return next(c)
			}
			sent := sentCSRF(c)
			if sent == "" {
				return echo.NewHTTPError(http.StatusBadRequest, "missing CSRF token: reload the page and try again")
			}
			if !ok || !a.csrf.valid(binding, sent) {
				return errs.New(errs.Forbidden, "invalid CSRF token: reload the page and try again")
			}
			return next(c)
		}
	}
}

// validCSRFHeader reports whether the request's X-CSRF-Token header is the
// token of its session or visitor cookie.
func (a *Auth) validCSRFHeader(c echo.Context) bool {
	sent := c.Request().Header.Get("X-CSRF-Token")
	if sent == "" {
		return false
	}
	binding, ok := a.csrfBinding(c)
	return ok && a.csrf.valid(binding, sent)
}

func (a *Auth) visitorCookie(value string, maxAge int) *http.Cookie {
	return &http.Cookie{
		Name: VisitorCookie, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: a.cfg.Secure, SameSite: http.SameSiteLaxMode,
	}
}

// safeMethod reports whether method changes nothing (RFC 9110 safe
// methods).
func safeMethod(method string) bool {
	switch strings.ToUpper(method) {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return true
	}
	return false
}
