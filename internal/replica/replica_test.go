package replica_test

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/internal/replica"
	"github.com/peykar/peykar/migrations/pgtest"
)

// clock is a settable clock for the staleness rule.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func pools(t *testing.T, r *pgtest.Replica) (primary, standby *pgxpool.Pool) {
	t.Helper()
	var err error
	primary, err = pgxpool.New(context.Background(), r.PrimaryDSN)
	require.NoError(t, err)
	t.Cleanup(primary.Close)
	standby, err = pgxpool.New(context.Background(), r.ReplicaDSN)
	require.NoError(t, err)
	t.Cleanup(standby.Close)
	return primary, standby
}

func inRecovery(t *testing.T, p *pgxpool.Pool) bool {
	t.Helper()
	var rec bool
	require.NoError(t, p.QueryRow(context.Background(), "SELECT pg_is_in_recovery()").Scan(&rec))
	return rec
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		select {
		case <-time.After(20 * time.Millisecond):
		case <-t.Context().Done():
			t.Fatal(t.Context().Err())
		}
	}
}

// TestStalenessIsTheAgeOfTheReplayedPosition drives the monitor by hand
// on a fake clock over a real primary and streaming standby: an idle
// primary leaves the replica current however much time passes (unlike
// now() − pg_last_xact_replay_timestamp()); with replay paused and the
// primary writing, staleness is exactly the time since the last position
// the replica has.
func TestStalenessIsTheAgeOfTheReplayedPosition(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	pair := pgtest.NewReplica(t)
	primary, standby := pools(t, pair)
	clk := &clock{t: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)}
	r := replica.New(primary, standby, replica.Config{MaxLag: 10 * time.Second, Now: clk.Now, Logger: slog.New(slog.DiscardHandler)})

	_, err := primary.Exec(ctx, "CREATE TABLE probe_t (n int)")
	require.NoError(t, err)
	waitFor(t, "the replica to replay the primary's position", func() bool {
		r.Probe(ctx)
		st := r.Status()
		return st.Up && st.Staleness == 0
	})
	db, asOf := r.Read(ctx)
	require.Same(t, standby, db)
	require.Equal(t, clk.Now(), asOf)

	// Idle for an hour: nothing to replay, so nothing stale.
	clk.Add(time.Hour)
	r.Probe(ctx)
	require.Equal(t, time.Duration(0), r.Status().Staleness)

	pair.PauseReplay(t)
	t.Cleanup(func() { pair.ResumeReplay(t) })
	_, err = primary.Exec(ctx, "INSERT INTO probe_t VALUES (1)")
	require.NoError(t, err)
	caughtUp := clk.Now()
	clk.Add(5 * time.Second)
	r.Probe(ctx)
	st := r.Status()
	require.True(t, st.Up)
	require.Equal(t, 5*time.Second, st.Staleness, "the newest position the replica has was seen 5 s ago")
	_, asOf = r.Read(ctx)
	require.Equal(t, caughtUp, asOf)

	clk.Add(6 * time.Second) // 11 s > MaxLag
	r.Probe(ctx)
	db, asOf = r.Read(ctx)
	require.Same(t, primary, db, "a replica lagging past the bound is not read")
	require.True(t, asOf.IsZero())
}

// TestReadsFollowTheReplica runs the monitor on the real clock with a 1 s
// bound: reads go to the standby (pg_is_in_recovery through the chosen
// pool) and see the primary's writes within the bound; with replay paused
// they fall back to the primary and return after resume; with the standby
// stopped they go to the primary and /metrics says it is down.
func TestReadsFollowTheReplica(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	pair := pgtest.NewReplica(t)
	primary, standby := pools(t, pair)
	r := replica.New(primary, standby, replica.Config{MaxLag: time.Second, Interval: 100 * time.Millisecond, Logger: slog.New(slog.DiscardHandler)})
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { r.Run(runCtx); close(done) }()
	t.Cleanup(func() { stop(); <-done })
	reg := prometheus.NewRegistry()
	reg.MustRegister(r)

	onReplica := func() bool { db, _ := r.Read(ctx); return db == standby }
	var db *pgxpool.Pool
	var asOf time.Time
	waitFor(t, "reads to go to the replica", func() bool { db, asOf = r.Read(ctx); return db == standby })
	require.True(t, inRecovery(t, db), "the chosen pool is the standby")
	require.False(t, asOf.IsZero())

	_, err := primary.Exec(ctx, "CREATE TABLE seen (n int); INSERT INTO seen VALUES (42)")
	require.NoError(t, err)
	waitFor(t, "the write to reach a replica read", func() bool {
		db, _ := r.Read(ctx)
		var n int
		return db == standby && db.QueryRow(ctx, "SELECT n FROM seen").Scan(&n) == nil && n == 42
	})

	pair.PauseReplay(t)
	waitFor(t, "reads to fall back to the primary while replay is paused", func() bool {
		_, err := primary.Exec(ctx, "INSERT INTO seen VALUES (1)")
		require.NoError(t, err)
		db, _ := r.Read(ctx)
		return db == primary
	})
	require.False(t, inRecovery(t, primary))
	require.GreaterOrEqual(t, counter(t, reg, "peykar_replica_fallbacks_total"), 1.0)
	pair.ResumeReplay(t)
	waitFor(t, "reads to return to the replica after resume", onReplica)

	pair.StopReplica(t)
	waitFor(t, "reads to go to the primary with the replica stopped", func() bool { return !onReplica() })
	require.False(t, r.Status().Up)
	mfs, err := reg.Gather()
	require.NoError(t, err)
	got := map[string]int{}
	for _, mf := range mfs {
		got[mf.GetName()] = len(mf.GetMetric())
		if mf.GetName() == "peykar_replica_up" {
			require.Equal(t, 0.0, mf.GetMetric()[0].GetGauge().GetValue(), "/metrics says the replica is down")
		}
	}
	require.Equal(t, 1, got["peykar_replica_up"])
	require.Equal(t, 1, got["peykar_replica_lag_seconds"])
	require.Equal(t, 2, got["peykar_replica_reads_total"], "reads counted by target: replica and primary")
}

func counter(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	require.NoError(t, err)
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() == name {
			for _, m := range mf.GetMetric() {
				sum += m.GetCounter().GetValue()
			}
		}
	}
	return sum
}
