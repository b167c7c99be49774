package httpapi

import (
	"context"
	"crypto/rand"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus"
)

// DefaultBodyLimit caps request bodies everywhere but uploads.
const DefaultBodyLimit = "2M"

// Middleware is the stack every Peykar HTTP server runs, in order: a
// request id, recovery from panics (logged with their stack), the access
// log, the body limit and the Prometheus request metrics, registered on
// reg. The tracking load test serves its endpoints through it too, so its
// numbers include what production pays per request.
//
// The public tracking routes (under /t/: clicks, opens, unsubscribes,
// the preference centre) come thousands a second, so the stack does the
// least it can for them: their request id is made only for an answer of
// 500 or more (the only ones that are logged), and nothing of the access
// line is computed for the others.
func Middleware(logger *slog.Logger, reg prometheus.Registerer) []echo.MiddlewareFunc {
	return MiddlewareWith(logger, NewRequestMetrics(reg))
}

// MiddlewareWith is Middleware feeding the request metrics rm, which a
// server answering some routes without Echo feeds too.
func MiddlewareWith(logger *slog.Logger, rm *RequestMetrics) []echo.MiddlewareFunc {
	return []echo.MiddlewareFunc{
		middleware.RequestIDWithConfig(middleware.RequestIDConfig{Skipper: isTracking, Generator: NewRequestID}),
		middleware.RecoverWithConfig(middleware.RecoverConfig{
			LogErrorFunc: func(c echo.Context, err error, stack []byte) error {
				logger.ErrorContext(c.Request().Context(), "panic in handler", slog.Any("error", err), slog.String("stack", string(stack)))
				return err
			},
		}),
		accessLog(logger),
		middleware.BodyLimitWithConfig(middleware.BodyLimitConfig{
			Limit:   DefaultBodyLimit,
			Skipper: func(c echo.Context) bool { return strings.HasSuffix(c.Path(), "/import") },
		}),
		rm.middleware(),
	}
}

// isTracking reports whether c's route is a public tracking route.
func isTracking(c echo.Context) bool { return strings.HasPrefix(c.Path(), "/t/") }

// accessLog writes one line per request (method, redacted URI, status,
// latency, client address, request id) at INFO, ERROR for 500 and more.
// An error returned by the handler is answered here by the error handler,
// so the line has the status the client got. Health checks and metrics
// scrapes are not logged. Tracking hits are counted in /metrics; a line
// each would cost CPU at thousands a second, and their URLs carry tokens
// (an unsubscribe token in a log lets its reader unsubscribe someone): only
// their failures are logged, by route.
func accessLog(logger *slog.Logger) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			route := c.Path()
			if route == "/healthz" || route == "/metrics" {
				return next(c)
			}
			tracking := strings.HasPrefix(route, "/t/")
			if tracking {
				// A failure the handler answers itself carries the id
				// its log line names.
				c.Response().Before(func() {
					if c.Response().Status >= http.StatusInternalServerError {
						requestID(c)
					}
				})
			}
			start := time.Now()
			err := next(c)
			if err != nil {
				if tracking {
					requestID(c) // before the error handler, which logs it
				}
				c.Error(err)
			}
			status := c.Response().Status
			if tracking && status < http.StatusInternalServerError {
				return err
			}
			latency := time.Since(start)
			req := c.Request()
			uri := route
			if !tracking {
				uri = RedactURI(c, req.RequestURI)
			}
			LogRequest(req.Context(), logger, req.Method, uri, status, latency, c.RealIP(), requestID(c))
			// The error is already answered; the error handler ignores it
			// when it reaches it again (the response is committed).
			return err
		}
	}
}

// LogRequest writes the access log's line of one request: INFO, ERROR for
// a status of 500 or more. uri must say nothing secret (a tracking
// request's is its route).
func LogRequest(ctx context.Context, logger *slog.Logger, method, uri string, status int, latency time.Duration, ip, requestID string) {
	level := slog.LevelInfo
	if status >= http.StatusInternalServerError {
		level = slog.LevelError
	}
	logger.LogAttrs(ctx, level, "http",
		slog.String("method", method), slog.String("uri", uri), slog.Int("status", status),
		slog.Duration("latency", latency), slog.String("ip", ip), slog.String("request_id", requestID))
}

// requestID is the request's id: the one the client or a proxy sent, else
// the one the response carries, else a new one, set on the response (which
// shows it when it is not yet written).
func requestID(c echo.Context) string {
	if id := c.Request().Header.Get(echo.HeaderXRequestID); id != "" {
		return id
	}
	h := c.Response().Header()
	if id := h.Get(echo.HeaderXRequestID); id != "" {
		return id
	}
	id := NewRequestID()
	h.Set(echo.HeaderXRequestID, id)
	return id
}

// NewRequestID is a new random request id (26 characters, 130 bits).
func NewRequestID() string { return rand.Text() }
