package forms

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
)

// Timing of signups.
const (
	// MinFillTime is the least time between rendering a form and a submit
	// a person can manage; a quicker submit is sent back to the form.
	MinFillTime = 2 * time.Second
	// RenderTokenTTL is how long a rendered form can be submitted.
	RenderTokenTTL = 2 * time.Hour
	// ConfirmTTL is how long a confirmation link works.
	ConfirmTTL = 48 * time.Hour
	// MaxMailsPerAddress confirmation mails go to one contact per
	// MailWindow, however often the address is submitted.
	MaxMailsPerAddress = 3
	// MailWindow is the window of MaxMailsPerAddress.
	MailWindow = 24 * time.Hour
)

// Config configures a Service. Pool, River and Keys are required.
type Config struct {
	Pool *pgxpool.Pool
	// River enqueues the confirmation mails (ConfirmArgs) in the submit's
	// transaction.
	River *river.Client[pgx.Tx]
	Keys  Keys
	// BaseURL is the server's public address, for the hosted page's and the
	// snippet's URLs.
	BaseURL string
	// Now is the clock of render tokens, rate limits and expiries. Default
	// time.Now.
	Now    func() time.Time
	Logger *slog.Logger
	// SubmitEvery and SubmitBurst are the per-IP limit of submits: SubmitBurst
	// at once, then one per SubmitEvery. Defaults 12 s and 5 (5 a minute).
	SubmitEvery time.Duration
	SubmitBurst int
	// ViewEvery and ViewBurst limit page views per IP. Defaults 1 s and 30.
	ViewEvery time.Duration
	ViewBurst int
	// Clients is how many client addresses the limiters remember. Default
	// 10,000.
	Clients int
}

// WithDefaults returns c with its zero fields set to their defaults.
func (c Config) WithDefaults() Config {
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.SubmitEvery <= 0 {
		c.SubmitEvery = 12 * time.Second
	}
	if c.SubmitBurst <= 0 {
		c.SubmitBurst = 5
	}
	if c.ViewEvery <= 0 {
		c.ViewEvery = time.Second
	}
	if c.ViewBurst <= 0 {
		c.ViewBurst = 30
	}
	if c.Clients <= 0 {
		c.Clients = 10000
	}
	return c
}

// Service serves the public form pages and takes submits and
// confirmations.
type Service struct {
	cfg            Config
	submits, views *Limiter
}

// New returns a Service for cfg.
func New(cfg Config) (*Service, error) {
	if cfg.Pool == nil || cfg.River == nil || len(cfg.Keys.Current) == 0 {
		return nil, errors.New("forms: Pool, River and Keys are required")
	}
	cfg = cfg.WithDefaults()
	return &Service{
		cfg:     cfg,
		submits: NewLimiter(cfg.SubmitEvery, cfg.SubmitBurst, cfg.Clients),
		views:   NewLimiter(cfg.ViewEvery, cfg.ViewBurst, cfg.Clients),
	}, nil
}

// inTx runs fn in a transaction of the pool.
func (s *Service) inTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	tx, err := s.cfg.Pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}
