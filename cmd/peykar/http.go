package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo-contrib/echoprometheus"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"riverqueue.com/riverui"

	"github.com/peykar/peykar/internal/httpapi"
	"github.com/peykar/peykar/migrations"
)

// defaultBodyLimit caps request bodies everywhere but uploads.
const defaultBodyLimit = "2M"

func (m *Main) newEcho(ctx context.Context) (*echo.Echo, error) {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.Logger.SetOutput(discard{})
	e.IPExtractor = ipExtractor(m.Config.proxies)
	e.HTTPErrorHandler = httpapi.ErrorHandler(m.Logger)

	e.Use(middleware.RequestID())
	e.Use(middleware.RecoverWithConfig(middleware.RecoverConfig{
		LogErrorFunc: func(c echo.Context, err error, stack []byte) error {
			m.Logger.ErrorContext(c.Request().Context(), "panic in handler", slog.Any("error", err), slog.String("stack", string(stack)))
			return err
		},
	}))
	e.Use(m.accessLog())
	e.Use(middleware.BodyLimitWithConfig(middleware.BodyLimitConfig{
		Limit:   defaultBodyLimit,
		Skipper: func(c echo.Context) bool { return strings.HasSuffix(c.Path(), "/import") },
	}))
	m.registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	e.Use(echoprometheus.NewMiddlewareWithConfig(echoprometheus.MiddlewareConfig{
		Namespace: "peykar",
		Subsystem: "http",
		// Unknown paths are labelled by route, not by the path asked for, so
		// scanners cannot blow up the label set.
		DoNotUseRequestPathFor404: true,
		Registerer:                m.registry,
		Skipper:                   func(c echo.Context) bool { return c.Path() == "/metrics" },
	}))

	e.GET("/healthz", func(c echo.Context) error { return c.JSON(http.StatusOK, map[string]string{"status": "ok"}) })
	e.GET("/readyz", m.readyz)
	e.GET("/metrics", echo.WrapHandler(promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})))

	if m.Config.Mode == "worker" {
		return e, nil // a worker serves health and metrics only
	}

	// Every /api/v1 and /admin route needs a login or API token with the
	// right role (auth.Allowed); only the login and setup pages are public.
	m.registerRoutes(e, e.Group("/api/v1", m.auth.API()...))
	if err := m.registerPages(e.Group("/admin", m.auth.Pages()...)); err != nil {
		return nil, err
	}

	ui, err := riverui.NewHandler(&riverui.HandlerOpts{
		Endpoints: riverui.NewEndpoints(m.river, nil),
		Logger:    m.Logger,
		Prefix:    "/admin/jobs",
	})
	if err != nil {
		return nil, fmt.Errorf("river ui: %w", err)
	}
	// The UI's background queries stop at Close, before the pool closes.
	uiCtx, stopUI := context.WithCancel(context.WithoutCancel(ctx))
	m.closers = append(m.closers, func(context.Context) error { stopUI(); return nil })
	if err := ui.Start(uiCtx); err != nil {
		return nil, fmt.Errorf("river ui: %w", err)
	}
	jobs := e.Group("/admin/jobs", m.auth.Jobs()...) // admin only, no CSRF token
	jobs.Any("", echo.WrapHandler(ui))
	jobs.Any("/*", echo.WrapHandler(ui))
	return e, nil
}

// ipExtractor is how c.RealIP() finds the client (the login rate limit,
// tracking's machine-traffic rules and the access log use it): the TCP peer,
// or, behind the trusted proxies, the nearest X-Forwarded-For entry that is
// not one of them. Nothing is trusted by default (not even loopback or
// private ranges), so a client cannot forge its address with a header.
func ipExtractor(proxies []*net.IPNet) echo.IPExtractor {
	if len(proxies) == 0 {
		return echo.ExtractIPDirect()
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, p := range proxies {
		opts = append(opts, echo.TrustIPRange(p))
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}

func (m *Main) readyz(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 3*time.Second)
	defer cancel()
	if err := migrations.Check(ctx, m.pool); err != nil {
		m.Logger.WarnContext(ctx, "not ready", slog.Any("error", err))
		return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "reason": readinessReason(err)})
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

func readinessReason(err error) string {
	if errors.Is(err, migrations.ErrNotCurrent) {
		return "database schema is not current"
	}
	return "database unreachable"
}

func (m *Main) accessLog() echo.MiddlewareFunc {
	return middleware.RequestLoggerWithConfig(middleware.RequestLoggerConfig{
		LogStatus: true, LogURI: true, LogMethod: true, LogLatency: true, LogRequestID: true, LogRemoteIP: true, LogError: true,
		HandleError: true,
		Skipper:     func(c echo.Context) bool { return c.Path() == "/healthz" || c.Path() == "/metrics" },
		LogValuesFunc: func(c echo.Context, v middleware.RequestLoggerValues) error {
			uri := v.URI
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
			m.Logger.LogAttrs(c.Request().Context(), level, "http",
				slog.String("method", v.Method), slog.String("uri", uri), slog.Int("status", v.Status),
				slog.Duration("latency", v.Latency), slog.String("ip", v.RemoteIP), slog.String("request_id", v.RequestID))
			return nil
		},
	})
}

func (m *Main) startHTTP(ctx context.Context) error {
	e, err := m.newEcho(ctx)
	if err != nil {
		return err
	}
	m.echo = e
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", m.Config.Addr)
	if err != nil {
		return &ConfigError{"PEYKAR_ADDR", fmt.Sprintf("cannot listen on %s: %v", m.Config.Addr, err)}
	}
	m.ln = ln
	m.server = &http.Server{
		Handler:           e,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(m.Logger.Handler(), slog.LevelWarn),
	}
	go func() {
		if err := m.server.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			m.Logger.Error("http server stopped", slog.Any("error", err))
		}
	}()
	m.closers = append(m.closers, func(ctx context.Context) error {
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		return m.server.Shutdown(ctx)
	})
	return nil
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

var _ prometheus.Collector = (*jobMetrics)(nil)
