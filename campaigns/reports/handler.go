package reports

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/labstack/echo/v4"

	"github.com/peykar/peykar/campaigns"
)

// Config is what the reports handlers need.
type Config struct {
	// Pool is the database. Required.
	Pool *pgxpool.Pool
	// Report returns campaign id's report (campaigns.Service.Report): the
	// one typed value the API, the pages, the stream and the CSV exports
	// all read. Required.
	Report func(ctx context.Context, id int64) (campaigns.Report, error)
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// PollInterval is how often a campaign with stream subscribers is
	// polled for changes. Default 1s.
	PollInterval time.Duration
	// FlushEvery is how many CSV rows are written between flushes.
	// Default 1000.
	FlushEvery int
	// APIPath is where the API is mounted, for the pages' stream URL.
	// Default /api/v1.
	APIPath string
	// AdminPath is where the admin pages are mounted, for the old report
	// pages' redirects. Default /admin.
	AdminPath string
	// Now is the clock: a standard report without dates covers the days
	// up to Now. Default time.Now.
	Now func() time.Time
	// Reads routes exports and standard reports to a replica when one is
	// close enough; nil reads Pool.
	Reads campaigns.Reads
}

// WithDefaults returns c with its defaults filled in.
func (c Config) WithDefaults() Config {
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.PollInterval <= 0 {
		c.PollInterval = time.Second
	}
	if c.FlushEvery <= 0 {
		c.FlushEvery = 1000
	}
	if c.APIPath == "" {
		c.APIPath = "/api/v1"
	}
	if c.AdminPath == "" {
		c.AdminPath = "/admin"
	}
	return c
}

// Handler serves the report stream, pages, exports and standard reports.
type Handler struct {
	cfg Config
	hub *hub

	closed    chan struct{} // closed by Close: open streams end
	closeOnce sync.Once
}

// New checks cfg and returns a Handler.
func New(cfg Config) (*Handler, error) {
	cfg = cfg.WithDefaults()
	if cfg.Pool == nil {
		return nil, errors.New("reports: Config.Pool is required")
	}
	if cfg.Report == nil {
		return nil, errors.New("reports: Config.Report is required")
	}
	h := &Handler{cfg: cfg, closed: make(chan struct{})}
	h.hub = newHub(cfg.Report, cfg.PollInterval, cfg.Logger)
	return h, nil
}

// Close ends the open streams (and those that start later at once), so a
// server's graceful shutdown need not wait for the browsers that hold
// them: http.Server.RegisterOnShutdown(h.Close). A browser's EventSource
// reconnects to whichever server answers next.
func (h *Handler) Close() {
	h.closeOnce.Do(func() { close(h.closed) })
}

// isClosed reports whether Close has been called.
func (h *Handler) isClosed() bool {
	select {
	case <-h.closed:
		return true
	default:
		return false
	}
}

// Routes registers the handlers on api (/api/v1). The old report and
// comparison page URLs (report.html, compare.html) redirect to the admin
// UI's pages.
func (h *Handler) Routes(api *echo.Group) {
	api.GET("/campaigns/:id/stream", h.Stream)
	api.GET("/campaigns/:id/report.html", h.Page)
	api.GET("/campaigns/:id/report.csv", h.ReportCSV)
	api.GET("/campaigns/:id/deliveries.csv", h.DeliveriesCSV)
	api.GET("/campaigns/:id/links.csv", h.LinksCSV)
	api.GET("/segments/:id/contacts.csv", h.SegmentContactsCSV)
	api.GET("/reports/compare", h.Compare)
	api.GET("/reports/compare.html", h.ComparePage)
	api.GET("/reports/standard", h.Standard)
	api.GET("/reports/standard.csv", h.StandardCSV)
}
