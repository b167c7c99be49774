package auth

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/labstack/echo/v4"

	"github.com/peykar/peykar/internal/errs"
)

// Pool is what Auth needs of the database (a *pgxpool.Pool).
type Pool interface {
	DBTX
	Begin(ctx context.Context) (pgx.Tx, error)
}

// Config configures Auth. Zero fields take the documented defaults.
type Config struct {
	Pool   Pool
	Logger *slog.Logger
	// Secure marks cookies Secure (send over https only); set it when the
	// public base URL is https.
	Secure bool
	// Origin is the public origin of the UI, scheme://host[:port] of the
	// base URL. SameOrigin accepts a request whose Origin header is this
	// when the browser sends no Sec-Fetch-Site. Default none: only
	// Sec-Fetch-Site and the CSRF token count.
	Origin string
	// Secret keys the CSRF tokens; PreviousSecret still verifies them
	// during a rotation. Default a random key per process (tokens then do
	// not survive a restart, nor cross to another process).
	Secret, PreviousSecret []byte
	// SessionTTL is how long a login lasts. Default 7 days.
	SessionTTL time.Duration
	// LoginPath is where pages send visitors who are not logged in.
	// Default /admin/login.
	LoginPath string
	// IPBackoff slows down failed logins per client address, whichever
	// accounts it tries. Defaults: 20 free failures, then waits of 1s
	// doubling up to 15m; forgotten after 1h without a failure.
	IPBackoff Backoff
	// AccountBackoff slows down failed logins per account and client
	// address together: an account is never locked for everyone, so an
	// attacker cannot lock its owner out. Defaults: 5 free failures, then
	// waits of 1s doubling up to 15m; forgotten after 1h without one, or
	// at a successful login.
	AccountBackoff Backoff
	// Now is the clock (login backoff). Default time.Now.
	Now func() time.Time
}

// WithDefaults returns c with zero fields set to their defaults.
func (c Config) WithDefaults() Config {
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.SessionTTL == 0 {
		c.SessionTTL = 7 * 24 * time.Hour
	}
	if c.LoginPath == "" {
		c.LoginPath = "/admin/login"
	}
	c.IPBackoff = c.IPBackoff.withDefaults(20)
	c.AccountBackoff = c.AccountBackoff.withDefaults(5)
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// Auth authenticates requests and logs people in and out.
type Auth struct {
	cfg       Config
	csrf      csrfKeys
	guard     *loginGuard
	forbidden func(c echo.Context, message string) error
	tokens    tokenCache
}

// OnPageForbidden sets how pages answer a role that may not see them (an
// HTML page, say); by default the error goes to the HTTP error handler.
// Call it before serving.
func (a *Auth) OnPageForbidden(f func(c echo.Context, message string) error) { a.forbidden = f }

// New returns an Auth for cfg.
func New(cfg Config) *Auth {
	cfg = cfg.WithDefaults()
	return &Auth{cfg: cfg, csrf: newCSRFKeys(cfg.Secret, cfg.PreviousSecret), guard: newLoginGuard(cfg.IPBackoff, cfg.AccountBackoff)}
}

// SessionCookie is the name of the login session cookie.
const SessionCookie = "peykar_session"

// ErrTooManyAttempts answers a login refused by the backoff (429); the
// error Login returns is a *TooManyAttempts that wraps it.
var ErrTooManyAttempts = echo.NewHTTPError(http.StatusTooManyRequests, "too many failed logins: wait and try again (see Retry-After)")

// TooManyAttempts is the error of a login refused by the backoff.
type TooManyAttempts struct {
	Wait time.Duration // until the next attempt is admitted, in whole seconds
}

func (e *TooManyAttempts) Error() string {
	return fmt.Sprintf("too many failed logins: try again in %s", e.Wait)
}

// Unwrap makes errors.Is(err, ErrTooManyAttempts) hold and gives the HTTP
// error handler its 429.
func (e *TooManyAttempts) Unwrap() error { return ErrTooManyAttempts }

// Login checks email and password and, when they match, starts a session
// and sets its cookie. Failed logins slow down their client address, and
// the account from that address (see Config.IPBackoff and AccountBackoff):
// an attempt made too soon is refused unjudged with a *TooManyAttempts
// (and a Retry-After header). It returns that, ErrBadCredentials or a
// database error.
func (a *Auth) Login(c echo.Context, email, password string) (User, error) {
	ctx := c.Request().Context()
	ip, account := c.RealIP(), strings.ToLower(strings.TrimSpace(email))
	if wait := a.guard.begin(account, ip, a.cfg.Now()); wait > 0 {
		secs := int64(math.Ceil(wait.Seconds()))
		c.Response().Header().Set("Retry-After", strconv.FormatInt(secs, 10))
		a.cfg.Logger.WarnContext(ctx, "login refused: too many failures", slog.String("ip", ip), slog.String("email", account), slog.Int64("retry_after_s", secs))
		return User{}, &TooManyAttempts{Wait: time.Duration(secs) * time.Second}
	}
	u, err := Authenticate(ctx, a.cfg.Pool, email, password)
	switch {
	case err == nil:
		a.guard.end(account, ip, loginSucceeded, a.cfg.Now())
	case errs.Is(err, errs.Unauthorized):
		a.guard.end(account, ip, loginFailed, a.cfg.Now())
		a.cfg.Logger.InfoContext(ctx, "login failed", slog.String("ip", ip), slog.String("email", account))
		return User{}, err
	default:
		a.guard.end(account, ip, loginAborted, a.cfg.Now())
		return User{}, err
	}
	return u, a.StartSession(c, u)
}

// StartSession logs u in on this browser. The browser's CSRF token changes
// with it: the visitor cookie it was derived from is cleared, and tokens
// are derived from the new session.
func (a *Auth) StartSession(c echo.Context, u User) error {
	secret, err := CreateSession(c.Request().Context(), a.cfg.Pool, u.ID, a.cfg.SessionTTL)
	if err != nil {
		return err
	}
	c.SetCookie(a.cookie(secret, int(a.cfg.SessionTTL/time.Second)))
	c.SetCookie(a.visitorCookie("", -1))
	a.cfg.Logger.InfoContext(c.Request().Context(), "login", slog.Int64("user_id", u.ID), slog.String("ip", c.RealIP()))
	return nil
}

// Logout ends this browser's session and clears its cookie.
func (a *Auth) Logout(c echo.Context) error {
	if ck, err := c.Cookie(SessionCookie); err == nil && ck.Value != "" {
		if err := DeleteSession(c.Request().Context(), a.cfg.Pool, ck.Value); err != nil {
			return err
		}
	}
	c.SetCookie(a.cookie("", -1))
	return nil
}

// ChangePassword changes the signed-in user's own password (the current one
// is required) and ends their other sessions, keeping this browser's. A
// request made with an API token is Forbidden: a token is not a person.
func (a *Auth) ChangePassword(c echo.Context, current, next string) error {
	id, ok := FromContext(c)
	if !ok || id.ViaToken() || id.UserID == 0 {
		return errs.New(errs.Forbidden, "log in to change your password (an API token cannot)")
	}
	if err := ChangePassword(c.Request().Context(), a.cfg.Pool, id.UserID, current, next, CurrentSession(c)); err != nil {
		return err
	}
	a.cfg.Logger.InfoContext(c.Request().Context(), "password changed", slog.Int64("user_id", id.UserID), slog.String("ip", c.RealIP()))
	return nil
}

// CurrentSession is the secret of the request's session cookie, or "".
func CurrentSession(c echo.Context) string {
	if ck, err := c.Cookie(SessionCookie); err == nil {
		return ck.Value
	}
	return ""
}

// CompleteSetup creates the first admin with the setup token and logs them in.
func (a *Auth) CompleteSetup(c echo.Context, secret, email, password string) (User, error) {
	u, err := CompleteSetup(c.Request().Context(), a.cfg.Pool, secret, email, password)
	if err != nil {
		return User{}, err
	}
	return u, a.StartSession(c, u)
}

func (a *Auth) cookie(value string, maxAge int) *http.Cookie {
	return &http.Cookie{
		Name: SessionCookie, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: a.cfg.Secure, SameSite: http.SameSiteLaxMode,
	}
}

// LoginPath is where pages send visitors who are not logged in.
func (a *Auth) LoginPath() string { return a.cfg.LoginPath }
