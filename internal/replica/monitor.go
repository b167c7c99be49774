package replica

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
)

// Run probes the two servers every Config.Interval until ctx ends. Without
// a replica it returns at once.
func (r *Router) Run(ctx context.Context) {
	if r.replica == nil {
		return
	}
	t := time.NewTicker(r.cfg.Interval)
	defer t.Stop()
	for {
		r.Probe(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// errNotStandby is a replica URL that reaches a server not in recovery: a
// promoted or mistaken server, whose data is not the primary's.
var errNotStandby = errors.New("the replica is not a standby (pg_is_in_recovery() is false)")

// Probe reads the primary's WAL position, then the replica's replayed
// position, and updates the replica's state. A replica that does not
// answer within the interval (at least a second) is down until a later
// probe says otherwise.
func (r *Router) Probe(ctx context.Context) {
	if r.replica == nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, max(r.cfg.Interval, time.Second))
	defer cancel()
	at := r.cfg.Now()
	var primaryLSN int64
	if err := r.primary.QueryRow(ctx, "SELECT (pg_current_wal_lsn() - '0/0'::pg_lsn)::bigint").Scan(&primaryLSN); err != nil {
		// Without the primary's position nothing new is known; the
		// replica's staleness keeps growing until a probe succeeds.
		r.cfg.Logger.WarnContext(ctx, "replica monitor: primary position", slog.Any("error", err))
		return
	}
	replayed, err := replayLSN(ctx, r.replica)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.addSample(sample{at: at, lsn: primaryLSN})
	if err != nil {
		if r.up {
			r.cfg.Logger.WarnContext(ctx, "replica monitor: the replica does not answer", slog.Any("error", err))
		}
		r.up = false
		return
	}
	r.up = true
	r.advance(replayed)
}

func replayLSN(ctx context.Context, db interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}) (int64, error) {
	var lsn *int64
	if err := db.QueryRow(ctx, "SELECT (pg_last_wal_replay_lsn() - '0/0'::pg_lsn)::bigint").Scan(&lsn); err != nil {
		return 0, fmt.Errorf("replay position: %w", err)
	}
	if lsn == nil {
		return 0, errNotStandby
	}
	return *lsn, nil
}

// addSample records the primary's position; an unchanged position only
// moves its time forward (an idle primary: the replica that has it is
// current). r.mu is held.
func (r *Router) addSample(s sample) {
	if n := len(r.samples); n > 0 && r.samples[n-1].lsn >= s.lsn {
		r.samples[n-1].at = s.at
		return
	}
	if len(r.samples) == maxSamples {
		r.samples = append(r.samples[:0], r.samples[1:]...)
	}
	r.samples = append(r.samples, s)
}

// advance moves asOf to the newest sample the replica has replayed and
// forgets the older ones (a replay position only grows). r.mu is held.
func (r *Router) advance(replayed int64) {
	i := -1
	for j, s := range r.samples {
		if s.lsn > replayed {
			break
		}
		i = j
	}
	if i < 0 {
		return // not even the oldest known position: asOf stays as old as it was
	}
	if r.samples[i].at.After(r.asOf) {
		r.asOf = r.samples[i].at
	}
	r.samples = append(r.samples[:0], r.samples[i:]...)
}
