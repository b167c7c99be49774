package tracking

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
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

	// FoldBatch is the most clicks and opens the follower folds in one
	// transaction. Default 2000.
	FoldBatch int
	// FoldEvery is the least time between two folds' starts, so that under
	// load a fold takes many events. Default 25ms.
	FoldEvery time.Duration
	// FoldPoll is how often the follower looks for events other processes
	// answered (its own writer wakes it at once). Default 100ms.
	FoldPoll time.Duration
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
	if c.FoldBatch <= 0 {
		c.FoldBatch = 2000
	}
	if c.FoldEvery <= 0 {
		c.FoldEvery = 25 * time.Millisecond
	}
	if c.FoldPoll <= 0 {
		c.FoldPoll = 100 * time.Millisecond
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

// Service is the tracking endpoints over two group-commit event writers:
// inbox for clicks and opens (the event only, folded later by follower),
// writer for the other events (everything in the event's transaction).
type Service struct {
	cfg      Config
	logger   *slog.Logger
	signer   *Signer
	writer   *writer
	inbox    *writer
	follower *follower
	// lastInbox is the highest event id the inbox answered (Settle).
	lastInbox atomic.Int64
	camps     *lru.Cache[int64, campEntry]
	links     *LinkCache
	metas     *lru.Cache[int64, deliveryMeta] // hashicorp/golang-lru: exact LRU, safe for concurrent use
	dests     *lru.Cache[destKey, string]
	agents    *lru.Cache[agentKey, Verdict]
	now       func() time.Time
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
		camps:  mustLRU[int64, campEntry](10000),
	}
	ap := &applier{links: s.links, river: cfg.River, now: cfg.Now, remember: func(d *delivery, ci campaignInfo) {
		s.remember(d.id, deliveryMeta{campaignID: d.campaignID, step: d.step, utm: ci.utm})
	}}
	s.writer = &writer{pool: cfg.Pool, applier: ap, logger: cfg.Logger, size: cfg.BatchSize, wait: cfg.BatchWait,
		timeout: cfg.BatchTimeout, in: make(chan *request, cfg.BatchSize*cfg.Writers*2), idle: make(chan struct{}, 1)}
	s.follower = &follower{pool: cfg.Pool, applier: ap, logger: cfg.Logger, size: cfg.FoldBatch, every: cfg.FoldEvery,
		poll: cfg.FoldPoll, timeout: 10 * cfg.BatchTimeout, wake: make(chan struct{}, 1)}
	s.inbox = &writer{pool: cfg.Pool, logger: cfg.Logger, size: cfg.BatchSize, wait: cfg.BatchWait,
		timeout: cfg.BatchTimeout, in: make(chan *request, cfg.BatchSize*cfg.Writers*2), idle: make(chan struct{}, 1),
		rec: s.recordInbox, committed: s.follower.nudge}
	return s, nil
}

// remember keeps what fallbackURL needs of delivery id. Every click and
// open passes here, most of them twice (the inbox, then the follower), so
// an entry already there as it is stays untouched: an Add takes the
// cache's lock exclusively and moves the entry each time. The cache then
// drops the deliveries remembered (or changed) longest ago, not the ones
// clicked longest ago: for a fallback during an outage, as good.
func (s *Service) remember(id int64, m deliveryMeta) {
	if old, ok := s.metas.Peek(id); ok && old == m {
		return
	}
	s.metas.Add(id, m)
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

// Start starts the event writers and the follower. Events submitted
// before Start wait for it.
func (s *Service) Start(ctx context.Context) error {
	s.writer.start(s.cfg.Writers)
	s.inbox.start(s.cfg.Writers)
	s.follower.start(ctx)
	return nil
}

// Close stops taking events, writes those already taken and stops the
// writers and the follower (events it has not folded wait in the inbox
// for the next follower, of this process or another). Call it before the
// pool closes.
func (s *Service) Close(ctx context.Context) error {
	return errors.Join(s.inbox.stop(ctx), s.writer.stop(ctx), s.follower.stop(ctx))
}

// Stats returns the writers' counters (commits and events since start)
// and the follower's (folds and events folded).
func (s *Service) Stats() Stats {
	a, b := s.writer.stats(), s.inbox.stats()
	return Stats{Commits: a.Commits + b.Commits, Events: a.Events + b.Events,
		Folds: s.follower.folds.Load(), Folded: s.follower.folded.Load()}
}

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
