package tracking

import (
	"context"
	"errors"
	"log/slog"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
)

// Config configures the tracking Service.
type Config struct {
	// Pool is the database. Required.
	Pool *pgxpool.Pool
	// Signer verifies tracking tokens. Required.
	Signer *Signer
	// River enqueues follow-up rule jobs in the writer's transactions; nil
	// enqueues none.
	River *river.Client[pgx.Tx]
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// BatchSize is the most events one transaction records. Default 500.
	BatchSize int
	// BatchWait is the longest a batch waits for more events after its
	// first while another batch is being recorded; a batch never waits
	// when the database has nothing to do. Default 2ms.
	BatchWait time.Duration
	// Writers is how many batches may commit at once. Default 2: one
	// batch's statements run while another commits. One writer makes
	// bigger batches (less CPU per event) but leaves the database's second
	// core idle, so it records fewer events per second on a quiet machine.
	Writers int
	// BatchTimeout fails a batch the database does not finish in time (the
	// requests answer 503). Default 3s.
	BatchTimeout time.Duration
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// WithDefaults returns c with its defaults filled in.
func (c Config) WithDefaults() Config {
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.BatchSize <= 0 {
		c.BatchSize = 500
	}
	if c.BatchWait <= 0 {
		c.BatchWait = 2 * time.Millisecond
	}
	if c.Writers <= 0 {
		c.Writers = 2
	}
	if c.BatchTimeout <= 0 {
		c.BatchTimeout = 3 * time.Second
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// deliveryMeta is remembered per delivery so clicks redirect while the
// database is down.
type deliveryMeta struct {
	campaignID int64
	step       string
	utm        UTM
}

// Service is the tracking endpoints over one group-commit event writer.
type Service struct {
	cfg    Config
	logger *slog.Logger
	signer *Signer
	writer *writer
	links  *LinkCache
	metas  *lru.Cache[int64, deliveryMeta] // hashicorp/golang-lru: exact LRU, safe for concurrent use
	dests  *lru.Cache[destKey, string]
	agents *lru.Cache[agentKey, Verdict]
	now    func() time.Time
}

// NewService checks cfg and builds a Service; Start starts its writer.
func NewService(cfg Config) (*Service, error) {
	cfg = cfg.WithDefaults()
	if cfg.Pool == nil {
		return nil, errors.New("tracking: Config.Pool is required")
	}
	if cfg.Signer == nil {
		return nil, errors.New("tracking: Config.Signer is required")
	}
	s := &Service{cfg: cfg, logger: cfg.Logger, signer: cfg.Signer, now: cfg.Now,
		links:  NewLinkCache(10000, time.Minute, cfg.Now),
		metas:  mustLRU[int64, deliveryMeta](200000),
		dests:  mustLRU[destKey, string](10000),
		agents: mustLRU[agentKey, Verdict](10000),
	}
	ap := &applier{links: s.links, river: cfg.River, now: cfg.Now, remember: func(d *delivery, ci campaignInfo) {
		s.metas.Add(d.id, deliveryMeta{campaignID: d.campaignID, step: d.step, utm: ci.utm})
	}}
	s.writer = &writer{pool: cfg.Pool, applier: ap, logger: cfg.Logger, size: cfg.BatchSize, wait: cfg.BatchWait,
		timeout: cfg.BatchTimeout, in: make(chan *request, cfg.BatchSize*cfg.Writers*2), idle: make(chan struct{}, 1)}
	return s, nil
}

// mustLRU returns an LRU cache of size entries (size is a positive
// constant, the only thing lru.New checks).
func mustLRU[K comparable, V any](size int) *lru.Cache[K, V] {
	c, err := lru.New[K, V](size)
	if err != nil {
		panic(err)
	}
	return c
}

// Start starts the event writer. Events submitted before Start wait for it.
func (s *Service) Start(ctx context.Context) error {
	s.writer.start(s.cfg.Writers)
	return nil
}

// Close stops taking events, writes those already taken and stops the
// writer. Call it before the pool closes.
func (s *Service) Close(ctx context.Context) error {
	return s.writer.stop(ctx)
}

// Stats returns the writer's counters (commits and events since start).
func (s *Service) Stats() Stats { return s.writer.stats() }

// Record hands one event to the writer and returns once it is durable. It
// is for callers outside the HTTP handlers (the bounce listener, tests).
func (s *Service) Record(ctx context.Context, ev Event) (Outcome, error) {
	if ev.At.IsZero() {
		ev.At = s.now()
	}
	if ev.Type != TypeClick {
		ev.LinkIdx = -1
	}
	return s.writer.submit(ctx, &ev)
}
