package engine

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/campaigns/deliveries"
	"github.com/peykar/peykar/migrations/pgtest"
)

// fakeClock is the lease's injected clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// fenceProcess registers a process with an injected clock, as Start does
// but without its tickers: the test drives its heartbeat (beat) and the
// sweep (RescueDeadProcesses) itself.
func fenceProcess(t *testing.T, pool *pgxpool.Pool, id string) (*Process, *fakeClock) {
	t.Helper()
	clock := &fakeClock{t: time.Unix(1_000_000, 0)}
	p := &Process{Pool: pool, ID: id, Mode: "worker", Logger: slog.New(slog.DiscardHandler), Now: clock.now}
	p.lease.init()
	require.NoError(t, p.register(context.Background()))
	p.lease.renew(0, clock.now().Add(ProcessLease))
	t.Cleanup(func() {
		if p.conn != nil {
			_ = p.conn.Close(context.Background())
		}
	})
	return p, clock
}

// inJob runs f inside p's middleware, as a River job of p runs, and
// returns f's context (cancelled once the job ends; f keeps it in use).
func inJob(t *testing.T, p *Process, f func(ctx context.Context)) {
	t.Helper()
	require.NoError(t, p.Work(context.Background(), &rivertype.JobRow{ID: 1}, func(ctx context.Context) error {
		f(ctx)
		return nil
	}))
}

// lapsedWaits reports whether checkLease, given a context that is already
// done, returns that context's error rather than letting the job send:
// the only way it can end without a heartbeat outcome.
func lapsedWaits(ctx context.Context) bool {
	done, cancel := context.WithCancel(ctx)
	cancel()
	err := checkLease(done)
	return err != nil && err != ErrFenced
}

// TestLeaseLapsesAndFences declares a live but silent process dead while
// one of its jobs runs: the job may send while the lease holds, waits once
// it has lapsed (nothing more goes to SMTP), and when the heartbeat is
// refused because a sweep declared the process dead, the job is cancelled
// and refused for good, while the process goes on as a new incarnation
// whose jobs may send.
func TestLeaseLapsesAndFences(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	p, clock := fenceProcess(t, pool, "frozen-worker")

	inJob(t, p, func(job context.Context) {
		require.NoError(t, checkLease(job), "the lease holds right after a heartbeat")
		clock.add(ProcessLease + time.Millisecond)
		require.True(t, lapsedWaits(job), "a lapsed lease hands nothing to SMTP")

		// The process was frozen past the dead-worker threshold: another
		// process's sweep declares it dead and rescues its jobs.
		_, err := pool.Exec(ctx, `UPDATE processes SET heartbeat_at = now() - $2::interval WHERE id = $1`,
			p.ID, (ProcessDeadAfter + time.Minute).String())
		require.NoError(t, err)
		_, err = RescueDeadProcesses(ctx, pool, ProcessDeadAfter)
		require.NoError(t, err)

		waiting := make(chan error, 1)
		go func() { waiting <- checkLease(job) }()
		p.beat(ctx) // the process wakes up: its heartbeat is refused
		require.ErrorIs(t, <-waiting, ErrFenced, "a job waiting for the lease learns it was fenced")
		require.ErrorIs(t, checkLease(job), ErrFenced)
		require.ErrorIs(t, context.Cause(job), ErrFenced, "the fenced job's context is cancelled")
	})

	var stopped *time.Time
	require.NoError(t, pool.QueryRow(ctx, `SELECT stopped_at FROM processes WHERE id = $1`, p.ID).Scan(&stopped))
	require.Nil(t, stopped, "the process registered again as a new incarnation")
	inJob(t, p, func(job context.Context) {
		require.NoError(t, checkLease(job), "a job of the new incarnation may send")
	})
}

// TestLateHeartbeatRenews: a heartbeat later than the lease but before any
// sweep declared the process dead renews it, and the waiting job goes on:
// a slow process is not fenced for being slow.
func TestLateHeartbeatRenews(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	p, clock := fenceProcess(t, pool, "slow-worker")
	inJob(t, p, func(job context.Context) {
		clock.add(ProcessLease + time.Second)
		require.True(t, lapsedWaits(job))
		waiting := make(chan error, 1)
		go func() { waiting <- checkLease(job) }()
		p.beat(ctx)
		require.NoError(t, <-waiting, "the late heartbeat renewed the lease")
		require.NoError(t, context.Cause(job))
	})
}

// TestSweepWaitsForHeartbeat: a sweep and a heartbeat of the same process
// are ordered by its row lock. A sweep that declared the process dead
// before the heartbeat committed makes the heartbeat refused, never both
// "dead" for the others and "alive" for itself.
func TestSweepWaitsForHeartbeat(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	p, _ := fenceProcess(t, pool, "raced-worker")
	_, err := pool.Exec(ctx, `UPDATE processes SET heartbeat_at = now() - interval '1 hour' WHERE id = $1`, p.ID)
	require.NoError(t, err)

	tx, err := pool.Begin(ctx)
	require.NoError(t, err)
	defer func() { _ = tx.Rollback(ctx) }()
	var dead []string
	rows, err := tx.Query(ctx, queries.Get("process_declare_dead"), ProcessDeadAfter.String())
	require.NoError(t, err)
	dead, err = pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	require.Equal(t, []string{p.ID}, dead)
	beat := make(chan bool, 1)
	go func() {
		alive, err := p.heartbeat(ctx) // waits for the sweep's row lock
		require.NoError(t, err)
		beat <- alive
	}()
	require.NoError(t, tx.Commit(ctx))
	require.False(t, <-beat, "the heartbeat after the sweep is refused")
}

// TestReclaimSparesLaterClaims: an attempt that took over from a fenced
// process reclaims at once only rows claimed before it began, never the
// fresh claims of another attempt of the same job running alongside (River
// retries the job when the fenced process's attempt ends).
func TestReclaimSparesLaterClaims(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	dead, _ := fenceProcess(t, pool, "dead-worker")
	_, err := pool.Exec(ctx, `UPDATE processes SET heartbeat_at = now() - interval '1 hour' WHERE id = $1`, dead.ID)
	require.NoError(t, err)
	_, err = RescueDeadProcesses(ctx, pool, ProcessDeadAfter)
	require.NoError(t, err)
	fenceProcess(t, pool, "taker")

	var campaignID int64
	require.NoError(t, pool.QueryRow(ctx, `INSERT INTO campaigns (name, status) VALUES ('c', 'running') RETURNING id`).Scan(&campaignID))
	rows, err := pool.Query(ctx, `INSERT INTO contacts (email) SELECT 'r' || i || '@example.com' FROM generate_series(1, 2) i RETURNING id`)
	require.NoError(t, err)
	contactIDs, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	require.NoError(t, err)
	ids, err := deliveries.Create(ctx, pool, campaignID, "main", contactIDs)
	require.NoError(t, err)

	// This attempt began an hour ago; a later attempt of the job claimed
	// the rows since.
	const jobID = 42
	got, err := deliveries.Claim(ctx, pool, jobID, ids, time.Hour)
	require.NoError(t, err)
	require.Len(t, got, 2)
	var began time.Time
	require.NoError(t, pool.QueryRow(ctx, `SELECT now() - interval '1 hour'`).Scan(&began))
	w := &SendWorker{Pool: pool}
	w.Logger = slog.New(slog.DiscardHandler)
	r := w.reclaimFor(ctx, &rivertype.JobRow{ID: jobID, AttemptedBy: []string{"dead-worker", "taker"}, AttemptedAt: &began})
	require.True(t, r.ended, "the earlier attempt's process was declared dead")
	again, err := deliveries.Claim(ctx, pool, jobID, ids, r.at())
	require.NoError(t, err)
	require.Empty(t, again, "claims made after this attempt began are not taken over")

	// The old rule (stale 0 once the earlier process ended) took them.
	stolen, err := deliveries.Claim(ctx, pool, jobID, ids, w.staleAfter(ctx, []string{"dead-worker", "taker"}))
	require.NoError(t, err)
	require.Len(t, stolen, 2)
}

// TestReclaimAfterFencedCameBack: a process declared dead while it ran the
// job has ended for that job even after it registered again under the
// same id (its old jobs are fenced), so an attempt that took over does not
// wait ReclaimAfter for its claims; a live process that was never
// declared dead has not ended.
func TestReclaimAfterFencedCameBack(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	fenceProcess(t, pool, "came-back") // alive again, a new incarnation
	fenceProcess(t, pool, "taker")
	var began time.Time
	require.NoError(t, pool.QueryRow(ctx, `SELECT now()`).Scan(&began))
	w := &SendWorker{Pool: pool}
	w.Logger = slog.New(slog.DiscardHandler)
	job := &rivertype.JobRow{ID: 7, AttemptedBy: []string{"came-back", "taker"}, AttemptedAt: &began}
	require.False(t, w.reclaimFor(ctx, job).ended, "a live process's attempt may still run")
	job.Errors = []rivertype.AttemptError{{Attempt: 1, Error: fmt.Sprintf(rescueError, "came-back")}}
	require.True(t, w.reclaimFor(ctx, job).ended, "its attempt was fenced when a sweep rescued it")

	// The process that came back picks the job up itself.
	job.AttemptedBy = []string{"came-back", "came-back"}
	require.True(t, w.reclaimFor(ctx, job).ended, "its own earlier incarnation's attempt was fenced")
	job.Errors = nil
	require.False(t, w.reclaimFor(ctx, job).ended, "an earlier attempt of this same process may still run")
}

// TestFencedSliceRecordsOnlyAccepted: the outcomes of a slice that was out
// at SMTP while its process was declared dead are recorded only where the
// server accepted the message; its failures (a stale connection's "501
// bad command" after the freeze) leave the deliveries claimed for the
// attempt that took over, instead of bouncing recipients. While the lease
// holds, every outcome is recorded.
func TestFencedSliceRecordsOnlyAccepted(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	p, clock := fenceProcess(t, pool, "frozen-mid-slice")
	outcomes := func() []deliveries.Outcome {
		return []deliveries.Outcome{
			{ID: 1, Status: deliveries.Sent},
			{ID: 2, Status: deliveries.Bounced, Detail: `501 "5.5.2 Bad command"`},
			{ID: 3, Status: deliveries.Queued},
		}
	}
	inJob(t, p, func(job context.Context) {
		out, hard := trustedOutcomes(job, outcomes(), []int64{42})
		require.Len(t, out, 3, "the lease holds: every outcome is recorded")
		require.Equal(t, []int64{42}, hard)

		clock.add(ProcessLease + time.Millisecond)
		_, err := pool.Exec(ctx, `UPDATE processes SET heartbeat_at = now() - $2::interval WHERE id = $1`,
			p.ID, (ProcessDeadAfter + time.Minute).String())
		require.NoError(t, err)
		_, err = RescueDeadProcesses(ctx, pool, ProcessDeadAfter)
		require.NoError(t, err)
		type result struct {
			out  []deliveries.Outcome
			hard []int64
		}
		got := make(chan result, 1)
		go func() {
			o, h := trustedOutcomes(job, outcomes(), []int64{42})
			got <- result{o, h}
		}()
		p.beat(ctx) // refused: the process was declared dead meanwhile
		r := <-got
		require.Equal(t, []deliveries.Outcome{{ID: 1, Status: deliveries.Sent}}, r.out)
		require.Empty(t, r.hard, "no contact is suppressed on a fenced slice's word")
	})
}

// TestSweepEndsDeadSessions: a process declared dead inside an open
// transaction (frozen, or cut off from the network) loses its database
// sessions, so the row locks it held are free at once for the others;
// a live process's sessions are left alone.
func TestSweepEndsDeadSessions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	_, err := pool.Exec(ctx, `CREATE TABLE held (id int PRIMARY KEY); INSERT INTO held VALUES (1)`)
	require.NoError(t, err)
	dead, _ := fenceProcess(t, pool, "host-with-a-long-name-that-goes-on-and-on-and-on-and-on-4242-0badf00d")
	live, _ := fenceProcess(t, pool, "live-worker")
	require.Len(t, SessionName(dead.ID), 63, "at PostgreSQL's limit")
	require.Contains(t, SessionName(dead.ID), "4242-0badf00d", "the id's unique end is kept")
	session := func(p *Process) *pgx.Conn {
		cfg := pool.Config().ConnConfig.Copy()
		cfg.RuntimeParams["application_name"] = SessionName(p.ID)
		c, err := pgx.ConnectConfig(ctx, cfg)
		require.NoError(t, err)
		t.Cleanup(func() { _ = c.Close(ctx) })
		return c
	}
	deadConn, liveConn := session(dead), session(live)
	_, err = deadConn.Exec(ctx, `BEGIN; UPDATE held SET id = 1`)
	require.NoError(t, err)
	_, err = pool.Exec(ctx, `UPDATE processes SET heartbeat_at = now() - interval '1 hour' WHERE id = $1`, dead.ID)
	require.NoError(t, err)

	_, err = RescueDeadProcesses(ctx, pool, ProcessDeadAfter)
	require.NoError(t, err)

	// The lock is free: this update would wait for the dead transaction.
	tx, err := pool.Begin(ctx)
	require.NoError(t, err)
	defer func() { _ = tx.Rollback(ctx) }()
	_, err = tx.Exec(ctx, `SET LOCAL lock_timeout = '1min'`)
	require.NoError(t, err)
	_, err = tx.Exec(ctx, `UPDATE held SET id = 1`)
	require.NoError(t, err, "the dead process's row lock was released")
	require.NoError(t, tx.Commit(ctx))
	require.Error(t, deadConn.Ping(ctx), "the dead process's session was ended")
	require.NoError(t, liveConn.Ping(ctx), "a live process's session is left alone")
}
