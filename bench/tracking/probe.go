package main

import (
	"context"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/peykar/peykar/internal/proccpu"
)

// probes is the pool of the benchmark's own reads during a measured
// window: the settling sampler (every 50 ms), the progress polls that
// find the window's end, the drain polls of -backlog and the WAL
// positions. Their backends are PostgreSQL processes like peykar's, so
// the cluster's CPU includes them; this pool remembers its backends' pids
// so their CPU can be read (proccpu) and left out of the figure charged to
// the binary measured. Before this, the sampler alone was measured at
// 1.4–3.8 µs of PostgreSQL CPU per click (docs/benchmarks.md, wt-trk9).
type probes struct {
	*pgxpool.Pool
	mu   sync.Mutex
	pids []int
	last map[int]time.Duration // each backend's CPU when last read
}

// newProbes opens the probes' pool on dsn (at most three connections:
// sampler, progress and WAL position at once).
func newProbes(ctx context.Context, dsn string) (*probes, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, err
	}
	p := &probes{last: map[int]time.Duration{}}
	cfg.MaxConns = 3
	cfg.AfterConnect = func(_ context.Context, c *pgx.Conn) error {
		p.mu.Lock()
		p.pids = append(p.pids, int(c.PgConn().PID()))
		p.mu.Unlock()
		return nil
	}
	if p.Pool, err = pgxpool.NewWithConfig(ctx, cfg); err != nil {
		return nil, err
	}
	return p, nil
}

// cpu is the CPU the probes' backends have run so far. A backend that has
// gone (a connection the pool closed) counts with its last reading, so a
// window's difference never goes down; the pool keeps its connections for
// an hour, longer than any run.
func (p *probes) cpu() time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	var sum time.Duration
	for _, pid := range p.pids {
		if d, err := proccpu.Sched(pid); err == nil {
			p.last[pid] = d
		}
		sum += p.last[pid]
	}
	return sum
}
