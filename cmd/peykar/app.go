package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"runtime/debug"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"

	"github.com/peykar/peykar/campaigns/forms"
	"github.com/peykar/peykar/campaigns/reports"
	"github.com/peykar/peykar/engine"
	"github.com/peykar/peykar/engine/mailer"
	"github.com/peykar/peykar/internal/auth"
	"github.com/peykar/peykar/internal/httpapi"
	"github.com/peykar/peykar/internal/outbox"
	"github.com/peykar/peykar/internal/pgserver"
	"github.com/peykar/peykar/internal/replica"
	"github.com/peykar/peykar/migrations"
	"github.com/peykar/peykar/tracking"
)

// Main is the program: built from a Config, started by Run and stopped by
// Close. Tests drive it on port :0.
type Main struct {
	Config Config
	Logger *slog.Logger
	Stdout io.Writer
	// Now is the clock of the login backoff (auth.Config.Now). Default
	// time.Now; set it before Run.
	Now func() time.Time
	// replicaInterval is how often the replica monitor probes (default
	// 1 s); tests set it shorter before Run.
	replicaInterval time.Duration

	pg      *pgserver.Server
	pool    *pgxpool.Pool
	outbox  *outbox.Server
	river   *river.Client[pgxTx]
	echo    *echo.Echo
	hot     *echo.Echo // the click and the open pixel, answered apart (hot.go); nil in worker mode
	server  *http.Server
	streams *reports.Handler // the report streams: they end at shutdown (startHTTP)
	ln      net.Listener
	// trackingLn is the tracking listener's (PEYKAR_TRACKING_ADDR;
	// tracking_listener.go); nil when it is off.
	trackingLn net.Listener
	// requestMetrics are the HTTP request metrics both listeners feed.
	requestMetrics *httpapi.RequestMetrics
	registry       *prometheus.Registry
	closers        []func(context.Context) error // run in reverse by Close
	secret         string
	smtp           mailer.Config
	signer         *tracking.Signer
	tracking       *tracking.Service
	mailer         *mailer.Mailer
	engine         *engine.Engine
	auth           *auth.Auth
	forms          *forms.Service // signup forms (formService)
	// procID names this process: its River client, its processes row and
	// its database sessions' application_name (openDatabase).
	procID string

	// reads routes reads that may lag: the replica or the primary
	// (startReplica).
	reads *replica.Router
}

// NewMain returns a Main for cfg logging to stderr.
func NewMain(cfg Config, stdout, stderr io.Writer) *Main {
	level := map[string]slog.Level{"debug": slog.LevelDebug, "info": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError}[cfg.LogLevel]
	return &Main{
		Config: cfg,
		Logger: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level})),
		Stdout: stdout,
	}
}

// Version is the module version the binary was built from.
func Version() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			return bi.Main.Version
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				return "devel-" + s.Value[:12]
			}
		}
	}
	return "devel"
}

// openDatabase connects to DATABASE_URL or to the embedded cluster (starting
// it unless a running peykar already holds it) and migrates.
func (m *Main) openDatabase(ctx context.Context) error {
	dsn := m.Config.DatabaseURL
	if dsn == "" {
		srv, err := pgserver.Start(ctx, pgserver.Config{Dir: filepath.Join(m.Config.DataDir, "pg"), Logger: m.Logger})
		if err != nil {
			return err
		}
		m.pg = srv
		m.closers = append(m.closers, srv.Stop)
		if err := ensureDatabase(ctx, srv.DSN("postgres"), "peykar"); err != nil {
			return err
		}
		dsn = srv.DSN("peykar")
	}
	pcfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return fmt.Errorf("database: %w", err)
	}
	if pcfg.MaxConns < 16 {
		pcfg.MaxConns = 16
	}
	m.procID = engine.NewProcessID()
	if pcfg.ConnConfig.RuntimeParams["application_name"] == "" {
		// The sweep that declares this process dead ends its sessions by
		// this name (engine.SessionName), so a frozen or cut-off process
		// cannot hold row locks the others wait on.
		pcfg.ConnConfig.RuntimeParams["application_name"] = engine.SessionName(m.procID)
	}
	sessionDefaults(pcfg)
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return fmt.Errorf("database: %w", err)
	}
	m.pool = pool
	m.closers = append(m.closers, func(context.Context) error { pool.Close(); return nil })
	if err := waitReachable(ctx, pool, 30*time.Second); err != nil {
		return err
	}
	return migrations.Migrate(ctx, pool, m.Logger)
}

// Migrate applies migrations and releases everything it opened.
func (m *Main) Migrate(ctx context.Context) error {
	defer m.Close()
	if err := m.openDatabase(ctx); err != nil {
		return err
	}
	fmt.Fprintln(m.Stdout, "database is at migration", migrations.Latest())
	return nil
}

// Run starts the server and returns once it accepts requests.
func (m *Main) Run(ctx context.Context) error {
	start := time.Now()
	secret, err := m.Config.loadOrCreateSecret()
	if err != nil {
		return err
	}
	m.secret = secret
	if err := m.openDatabase(ctx); err != nil {
		return err
	}
	if err := m.startAuth(ctx); err != nil {
		return err
	}
	m.smtp = m.Config.smtp
	if m.Config.SMTPURL == "" {
		ob, err := outbox.Listen(ctx, m.pool, "127.0.0.1:0", m.Logger)
		if err != nil {
			return err
		}
		m.outbox = ob
		m.closers = append(m.closers, ob.Close)
		m.smtp = mailer.Config{Host: "127.0.0.1", Port: ob.Addr().Port, TLS: mailer.TLSNone, Pool: 8}
		m.Logger.InfoContext(ctx, "no SMTP_URL: sending to the embedded catch-all (see the Outbox)", slog.String("smtp", m.smtp.Addr()))
	}
	m.smtp.DKIM = m.Config.dkim
	m.registry = prometheus.NewRegistry()
	m.startPartitions(ctx)
	if err := m.startReplica(ctx); err != nil {
		return err
	}
	if err := m.startRiver(ctx); err != nil {
		return err
	}
	if m.Config.Mode != "worker" {
		if err := m.startTracking(ctx); err != nil {
			return err
		}
	}
	if err := m.startHTTP(ctx); err != nil {
		return err
	}
	m.Logger.InfoContext(ctx, "peykar is serving", slog.String("mode", m.Config.Mode), slog.String("url", m.URL()), slog.String("public_url", m.Config.BaseURL),
		slog.Duration("startup", time.Since(start)))
	fmt.Fprintf(m.Stdout, "Peykar %s is serving at %s\n", Version(), m.URL())
	return nil
}

// URL is the address the HTTP server listens on.
func (m *Main) URL() string {
	if m.ln == nil {
		return ""
	}
	return "http://" + m.ln.Addr().String()
}

// Close shuts down in reverse order of start: HTTP stops accepting and
// finishes its requests, running jobs finish or go back to the queue, then
// the database pool closes and the embedded PostgreSQL stops last.
func (m *Main) Close() error {
	ctx := context.Background()
	var errsOut []error
	for i := len(m.closers) - 1; i >= 0; i-- {
		if err := m.closers[i](ctx); err != nil {
			errsOut = append(errsOut, err)
		}
	}
	m.closers = nil
	return errors.Join(errsOut...)
}
