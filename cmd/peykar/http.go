package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"riverqueue.com/riverui"

	"github.com/peykar/peykar/internal/httpapi"
	"github.com/peykar/peykar/migrations"
	"github.com/peykar/peykar/web"
)

func (m *Main) newEcho(ctx context.Context) (*echo.Echo, error) {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.Logger.SetOutput(discard{})
	e.IPExtractor = ipExtractor(m.Config.proxies)
	// The error handler and the middleware log with each request's own
	// context; there is none to pass when they are built. (contextcheck
	// began flagging both when httpapi gained LogRequest and
	// RequestMetrics, though neither changed how they take a context.)
	e.HTTPErrorHandler = httpapi.ErrorHandler(m.Logger) //nolint:contextcheck // see above

	m.registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.registry.MustRegister(newDBCollector(m.pool, m.Logger))
	m.requestMetrics = httpapi.NewRequestMetrics(m.registry)
	mws := append(httpapi.MiddlewareWith(m.Logger, m.requestMetrics), httpapi.SecurityHeaders(m.securityHeaders())) //nolint:contextcheck // see above
	e.Use(mws...)

	e.GET("/healthz", func(c echo.Context) error { return c.JSON(http.StatusOK, map[string]string{"status": "ok"}) })
	e.GET("/readyz", m.readyz)
	e.GET("/metrics", echo.WrapHandler(promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})))
	e.GET("/favicon.ico", web.Favicon) // public, like the pages' assets

	if m.Config.Mode == "worker" {
		return e, nil // a worker serves health and metrics only
	}

	// Every /api/v1 and /admin route needs a login or API token with the
	// right role (auth.Allowed); only the login and setup pages are public.
	m.registerRoutes(e, e.Group("/api/v1", append(m.auth.API(), httpapi.RejectNUL())...))
	m.hot = m.newHotEcho(e, mws)
	if err := m.registerPages(e.Group("/admin", m.auth.Pages()...)); err != nil {
		return nil, err
	}
	// The CSS and JavaScript of the pages are public too (auth.IsPublic):
	// the login page needs them before anyone has logged in.
	web.Assets(e.Group("/admin/assets"))

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
	jobs := e.Group("/admin/jobs", m.auth.Jobs()...) // admin only; same-origin check instead of a CSRF token (River UI cannot send one)
	jobs.Use(httpapi.RejectNUL())
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
	var handler http.Handler = e
	if m.hot != nil {
		handler = hotFront{hot: m.hot, all: e}
	}
	m.server = &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(m.Logger.Handler(), slog.LevelWarn),
	}
	if m.streams != nil {
		m.server.RegisterOnShutdown(m.streams.Close) // open event streams end; browsers reconnect
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
	if m.Config.TrackingAddr != "" && m.tracking != nil {
		return m.startTrackingListener(ctx, handler)
	}
	return nil
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

var _ prometheus.Collector = (*jobMetrics)(nil)
