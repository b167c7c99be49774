package httpapi

import (
	"log/slog"
	"strings"

	"github.com/labstack/echo-contrib/echoprometheus"
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
func Middleware(logger *slog.Logger, reg prometheus.Registerer) []echo.MiddlewareFunc {
	return []echo.MiddlewareFunc{
		middleware.RequestID(),
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
		echoprometheus.NewMiddlewareWithConfig(echoprometheus.MiddlewareConfig{
			Namespace: "peykar",
			Subsystem: "http",
			// Unknown paths are labelled by route, not by the path asked
			// for, so scanners cannot blow up the label set.
			DoNotUseRequestPathFor404: true,
			Registerer:                reg,
			Skipper:                   func(c echo.Context) bool { return c.Path() == "/metrics" },
		}),
	}
}

func accessLog(logger *slog.Logger) echo.MiddlewareFunc {
	return middleware.RequestLoggerWithConfig(middleware.RequestLoggerConfig{
		LogStatus: true, LogURI: true, LogMethod: true, LogLatency: true, LogRequestID: true, LogRemoteIP: true, LogError: true,
		HandleError: true,
		Skipper:     func(c echo.Context) bool { return c.Path() == "/healthz" || c.Path() == "/metrics" },
		LogValuesFunc: func(c echo.Context, v middleware.RequestLoggerValues) error {
			uri := RedactURI(c, v.URI)
			if strings.HasPrefix(c.Path(), "/t/") {
				// Tracking hits are counted in /metrics; a line each would
				// cost CPU at thousands a second, and their URLs carry tokens
				// (an unsubscribe token in a log lets its reader unsubscribe
				// someone): log only failures, by route.
				if v.Status < 500 {
					return nil
				}
				uri = c.Path()
			}
			level := slog.LevelInfo
			if v.Status >= 500 {
				level = slog.LevelError
			}
			logger.LogAttrs(c.Request().Context(), level, "http",
				slog.String("method", v.Method), slog.String("uri", uri), slog.Int("status", v.Status),
				slog.Duration("latency", v.Latency), slog.String("ip", v.RemoteIP), slog.String("request_id", v.RequestID))
			return nil
		},
	})
}
