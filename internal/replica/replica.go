// Package replica chooses where a read that may lag runs: a streaming
// replica of the primary (PEYKAR_REPLICA_URL) while it answers and its data
// is at most Config.MaxLag old, else the primary.
//
// A Router holds the primary pool and the optional replica pool. Its
// monitor (Run) reads, every Config.Interval, the primary's
// pg_current_wal_lsn() and then the replica's pg_last_wal_replay_lsn(),
// and keeps the primary's recent positions with the time each was seen.
// The replica's data is as of the newest of those moments whose position it
// has replayed: its staleness is the age of that moment. This is not
// now() − pg_last_xact_replay_timestamp(), which grows while the primary is
// idle although the replica then has everything.
//
// Only reads whose result is shown (reports, exports, counts, analytics)
// ask the Router; writes, claims and any read whose result is written back
// use the primary directly.
package replica

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
)

// Config tunes a Router. The zero value uses the defaults.
type Config struct {
	// MaxLag is the staleness past which reads go to the primary
	// (PEYKAR_REPLICA_MAX_LAG). Default 10 s.
	MaxLag time.Duration
	// Interval is how often the monitor probes the two servers. Default 1 s.
	Interval time.Duration
	// Logger receives the routing changes (once per change). Default
	// slog.Default().
	Logger *slog.Logger
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// WithDefaults returns c with every unset field at its default.
func (c Config) WithDefaults() Config {
	if c.MaxLag <= 0 {
		c.MaxLag = 10 * time.Second
	}
	if c.Interval <= 0 {
		c.Interval = time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// maxSamples bounds the primary's position history: at the default
// interval, an hour of a replica that has replayed nothing.
const maxSamples = 3600

// sample is a primary WAL position and when it was seen.
type sample struct {
	at  time.Time
	lsn int64
}

// Router picks the pool for reads that may lag. Its methods are safe for
// concurrent use.
type Router struct {
	primary, replica *pgxpool.Pool
	cfg              Config

	mu        sync.Mutex
	samples   []sample  // oldest first; a position appears once, with its newest time
	up        bool      // the replica answered the last probe as a standby
	asOf      time.Time // the replica has everything the primary had then; zero: unknown
	onReplica bool      // the last read went to the replica (for logging changes)
	reason    string    // why the last read went to the primary

	reads     *prometheus.CounterVec
	fallbacks prometheus.Counter
}

// New returns a Router over primary and, when replica is not nil, the
// replica. Without a replica every read goes to the primary and the
// monitor does nothing.
func New(primary, replica *pgxpool.Pool, cfg Config) *Router {
	return &Router{
		primary: primary, replica: replica, cfg: cfg.WithDefaults(),
		reads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "peykar_replica_reads_total",
			Help: "Reads that may lag, by the server they were routed to (replica or primary).",
		}, []string{"target"}),
		fallbacks: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "peykar_replica_fallbacks_total",
			Help: "Times reads moved from the replica to the primary (replica down or lagging past PEYKAR_REPLICA_MAX_LAG).",
		}),
	}
}

// Primary is the primary pool: for writes and exact-now reads.
func (r *Router) Primary() *pgxpool.Pool { return r.primary }

// HasReplica reports whether a replica is configured.
func (r *Router) HasReplica() bool { return r.replica != nil }

// Read returns the pool for a read that may lag and, when that is the
// replica, the moment its data is as of (the zero time for the primary,
// which is exact now). The replica is chosen when it answered the last
// probe and its staleness is at most MaxLag.
func (r *Router) Read(ctx context.Context) (*pgxpool.Pool, time.Time) {
	if r.replica == nil {
		return r.primary, time.Time{}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	reason := r.unusable(r.cfg.Now())
	if reason == "" {
		if !r.onReplica {
			r.cfg.Logger.InfoContext(ctx, "reads that may lag go to the replica", slog.Duration("staleness", r.cfg.Now().Sub(r.asOf)))
		}
		r.onReplica, r.reason = true, ""
		r.reads.WithLabelValues("replica").Inc()
		return r.replica, r.asOf
	}
	if r.onReplica || r.reason != reason {
		if r.onReplica {
			r.fallbacks.Inc()
		}
		r.cfg.Logger.WarnContext(ctx, "reads that may lag go to the primary", slog.String("reason", reason))
	}
	r.onReplica, r.reason = false, reason
	r.reads.WithLabelValues("primary").Inc()
	return r.primary, time.Time{}
}

// unusable says why the replica may not serve a read now ("" when it may).
// r.mu is held.
func (r *Router) unusable(now time.Time) string {
	switch {
	case !r.up:
		return "replica down"
	case r.asOf.IsZero():
		return "replica staleness unknown"
	case now.Sub(r.asOf) > r.cfg.MaxLag:
		return fmt.Sprintf("replica lags more than %s", r.cfg.MaxLag)
	}
	return ""
}

// Status is the replica's state as the last probe saw it.
type Status struct {
	Configured bool
	Up         bool
	// Staleness is how old the replica's data may be now; negative when
	// unknown (no position replayed yet).
	Staleness time.Duration
}

// Status returns the replica's state.
func (r *Router) Status() Status {
	if r.replica == nil {
		return Status{}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	st := Status{Configured: true, Up: r.up, Staleness: -1}
	if !r.asOf.IsZero() {
		st.Staleness = r.cfg.Now().Sub(r.asOf)
	}
	return st
}
