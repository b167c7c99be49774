package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/campaigns/deliveries"
	"github.com/peykar/peykar/tracking"
)

// errFoldRefused is the hooks' refusal: the fold rolls back.
var errFoldRefused = errors.New("refused by the test")

// refuseFolds makes w's folds fail before their commit while refusing
// (set by refuse; true at first); each refused fold is signalled on the
// returned channel.
func refuseFolds(w *SendWorker) (refused <-chan int, refuse func(bool)) {
	ch := make(chan int, 100)
	var refusing atomic.Bool
	refusing.Store(true)
	hook := sendFoldHook(func(_ context.Context, _ pgx.Tx, outcomes int) error {
		if !refusing.Load() {
			return nil
		}
		select {
		case ch <- outcomes:
		default:
		}
		return errFoldRefused
	})
	w.fold.beforeCommit.Store(&hook)
	return ch, refusing.Store
}

// waitRefused waits for n refused folds of outcomes outcomes each (or
// fails the test at ctx's end).
func waitRefused(ctx context.Context, t *testing.T, refused <-chan int, n, outcomes int) {
	t.Helper()
	for range n {
		select {
		case got := <-refused:
			require.Equal(t, outcomes, got, "outcomes in the refused fold")
		case <-ctx.Done():
			t.Fatal("no fold was attempted")
		}
	}
}

// logRows counts the send outcome log's rows.
func (f *flushFixture) logRows(t *testing.T) int64 {
	t.Helper()
	var n int64
	require.NoError(t, f.pool.QueryRow(context.Background(), `SELECT count(*) FROM send_outcome_log`).Scan(&n))
	return n
}

// TestSendFoldCountsEverySendOnceAcrossFailedFolds: one flush records two
// sends to one contact (two steps) and a bounce of another. The flush
// commits the deliveries and one log row; the fold is refused twice after
// its statements ran (rolled back: the step counters, the people and the
// contacts' sent counts stay untouched, the row stays in the log), then
// allowed: each send and each person counts once (the contact sent two
// messages counts two, the bounced one none), and a further fold finds
// nothing to fold again.
func TestSendFoldCountsEverySendOnceAcrossFailedFolds(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	f := newFlushFixture(t)
	refused, refuse := refuseFolds(f.w)

	one := f.batch(t, f.a, "one", deliveries.Sent)
	two := f.batch(t, f.a, "two", deliveries.Sent)
	bounce := f.batch(t, f.b, "one", deliveries.Bounced)
	f.w.flush(ctx, []*outcomeBatch{one, two, bounce})
	for _, b := range []*outcomeBatch{one, two, bounce} {
		require.NoError(t, <-b.done)
	}
	waitRefused(ctx, t, refused, 2, 3)

	var stepSent, stepBounced, people, sentA int64
	require.NoError(t, f.pool.QueryRow(ctx, `SELECT
		(SELECT coalesce(sum(count), 0) FROM rollup_totals WHERE campaign_id = $1 AND metric = 'sent')::bigint,
		(SELECT coalesce(sum(count), 0) FROM rollup_totals WHERE campaign_id = $1 AND metric = 'send_bounced')::bigint,
		(SELECT count(*) FROM campaign_people WHERE campaign_id = $1),
		(SELECT coalesce(sum(sent), 0) FROM contact_stats WHERE contact_id = $2)::bigint`, f.campaignID, f.a).Scan(&stepSent, &stepBounced, &people, &sentA))
	require.Equal(t, [4]int64{0, 0, 0, 0}, [4]int64{stepSent, stepBounced, people, sentA},
		"refused folds leave the step counters, the people and the contacts' sent counts untouched")
	require.EqualValues(t, 1, f.logRows(t), "one log row per flush, kept across refused folds")

	refuse(false)
	f.requireState(t, map[string]int64{"sent": 2, "send_bounced": 1, "people_sent": 2, "people_bounced": 1}, 2, 0)
	require.Zero(t, f.logRows(t))
	n, _, err := f.w.foldOnce(ctx, foldRows)
	require.NoError(t, err)
	require.Zero(t, n, "nothing is folded twice")
	f.requireState(t, map[string]int64{"sent": 2, "send_bounced": 1, "people_sent": 2, "people_bounced": 1}, 2, 0)
}

// TestSendOutcomesSurviveAProcessThatDiesBeforeItsFold: a process records
// its outcomes and never folds them (every fold of it fails, as if it were
// killed after the flush's commit). Its log row committed with the
// deliveries, so another process's fold counts them: nothing is lost, and
// a send to a contact the campaign already has a person for refreshes that
// person rather than counting it again.
func TestSendOutcomesSurviveAProcessThatDiesBeforeItsFold(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	f := newFlushFixture(t)
	// The dying process: its first send is folded, the later ones never.
	dead := &SendWorker{Pool: f.pool}
	refused, refuse := refuseFolds(dead)
	refuse(false)
	first := f.batch(t, f.a, "one", deliveries.Sent)
	dead.flush(ctx, []*outcomeBatch{first})
	require.NoError(t, <-first.done)
	require.NoError(t, dead.SettleSends(ctx))

	refuse(true)
	again := f.batch(t, f.a, "two", deliveries.Sent)
	other := f.batch(t, f.b, "two", deliveries.Sent)
	bounce := f.batch(t, f.b, "three", deliveries.Bounced)
	dead.flush(ctx, []*outcomeBatch{again, other, bounce})
	for _, b := range []*outcomeBatch{again, other, bounce} {
		require.NoError(t, <-b.done)
	}
	waitRefused(ctx, t, refused, 1, 3)
	require.EqualValues(t, 1, f.logRows(t))

	// The next process (f.w, which has not folded anything yet) folds what
	// the dead one left.
	f.requireState(t, map[string]int64{"sent": 3, "send_bounced": 1, "people_sent": 2, "people_bounced": 0}, 2, 1)
	require.Zero(t, f.logRows(t))
}

// lockedBuffer is a log sink goroutines may write to.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// A fold whose pool was closed (the process shutting down, or a test's
// engine torn down while a fold a flush started still looks for rows)
// ends quietly: it used to log "send fold failed: closed pool" on every
// look, after a test had ended (a panic in CI), and a fold running for
// good never ended.
func TestSendFoldEndsWhenItsPoolCloses(t *testing.T) {
	t.Parallel()
	f := newFlushFixture(t)
	var logs lockedBuffer
	f.w.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	f.pool.Close()
	done := make(chan struct{})
	go func() {
		f.w.foldLoop(context.Background(), 0) // 0: ends only when ctx does, or the pool closed
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatalf("the fold did not end; it logged: %s", logs.String())
	}
	require.Empty(t, logs.String())
}

// TestSendFoldsOfTwoProcessesCountEachOutcomeOnce: two processes flush
// sends, bounces, failures and skips of one campaign at the same time, and
// each folds in the background (a flush starts its process's fold); the
// first two folds that take rows, of either process, fail before their
// commit (rolled back: another fold takes their rows again). Once the log is empty, the step
// counters — per minute, their totals and their hours — and the people
// counters equal the deliveries they count: every outcome counted once,
// none twice, none lost, including the failures and skips, whose log rows
// name no recipient.
func TestSendFoldsOfTwoProcessesCountEachOutcomeOnce(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	f := newFlushFixture(t)
	other := &SendWorker{Pool: f.pool}
	var refusals atomic.Int32
	hook := sendFoldHook(func(context.Context, pgx.Tx, int) error {
		if refusals.Add(1) <= 2 {
			return errFoldRefused
		}
		return nil
	})
	// Both processes share the refusals: the first two folds that took
	// rows, whichever process ran them, roll back (which process folds
	// depends on who wins the fold's advisory lock, so counting one
	// process's folds alone raced the other's: CI under two CPU hogs saw
	// one refusal).
	other.fold.beforeCommit.Store(&hook)
	f.w.fold.beforeCommit.Store(&hook)

	statuses := []string{deliveries.Sent, deliveries.Bounced, deliveries.Sent, deliveries.Failed, deliveries.Skipped}
	want := map[string]int64{}
	var sentA, sentB int64
	var flushes [][]*outcomeBatch
	for i := range 40 {
		contact, status := f.a, statuses[i%len(statuses)]
		if i%2 == 1 {
			contact = f.b
		}
		if status == deliveries.Sent {
			if contact == f.a {
				sentA++
			} else {
				sentB++
			}
		}
		want[statusMetric[status]]++
		if i%4 == 0 {
			flushes = append(flushes, nil)
		}
		last := len(flushes) - 1
		flushes[last] = append(flushes[last], f.batch(t, contact, fmt.Sprintf("step%d", i), status))
	}
	var wg sync.WaitGroup
	for i, batch := range flushes {
		w := f.w
		if i%2 == 1 {
			w = other
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.flush(ctx, batch)
		}()
	}
	wg.Wait()
	for _, batch := range flushes {
		for _, b := range batch {
			require.NoError(t, <-b.done)
		}
	}
	require.NoError(t, other.SettleSends(ctx))
	want[tracking.MetricPeopleSent], want[tracking.MetricPeopleBounced] = 2, 0
	f.requireState(t, want, sentA, sentB)
	require.GreaterOrEqual(t, refusals.Load(), int32(3), "two folds were refused and their rows folded again")

	var off int64
	require.NoError(t, f.pool.QueryRow(ctx, `
		WITH raw AS (
			SELECT CASE status WHEN 'bounced' THEN 'send_bounced' ELSE status END AS metric, count(*) AS n
			FROM deliveries WHERE campaign_id = $1 GROUP BY 1),
		minutes AS (SELECT metric, sum(count) AS n FROM rollups WHERE campaign_id = $1 GROUP BY 1),
		totals AS (SELECT metric, sum(count) AS n FROM rollup_totals WHERE campaign_id = $1 GROUP BY 1),
		hours AS (SELECT metric, sum(count) AS n FROM rollup_hours WHERE campaign_id = $1 GROUP BY 1)
		SELECT count(*) FROM raw
		LEFT JOIN minutes m USING (metric) LEFT JOIN totals t USING (metric) LEFT JOIN hours h USING (metric)
		WHERE m.n IS DISTINCT FROM raw.n OR t.n IS DISTINCT FROM raw.n
			OR (raw.metric IN ('sent', 'send_bounced') AND h.n IS DISTINCT FROM raw.n)`, f.campaignID).Scan(&off))
	require.Zero(t, off, "metrics whose minutes, totals or hours differ from the deliveries")
}

// TestAnOlderFoldLeavesCountsToANewerOne: while a deployment rolls, a
// peykar of the version before migration 049 may fold rows that this
// version's flushes wrote. Its fold (its statement, verbatim) knows nothing
// of the counts and would delete them uncounted: the database refuses it
// (migration 049's trigger) and the rollback keeps the row, which this
// version's fold then counts once. A fold of migrations 049–051 adds the
// counts but not the contacts' sent counts: refused as well (migration
// 052). A row without counts (an older flush's) any fold may take, and a
// row without sent contacts any fold that adds counts.
func TestAnOlderFoldLeavesCountsToANewerOne(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	f := newFlushFixture(t)
	refused, refuse := refuseFolds(f.w)

	one := f.batch(t, f.a, "one", deliveries.Sent)
	f.w.flush(ctx, []*outcomeBatch{one})
	require.NoError(t, <-one.done)
	waitRefused(ctx, t, refused, 1, 1)

	// The older statement, except that it waits for the fold's advisory
	// lock instead of trying it: this process's refused folds hold it now
	// and then, and a try that failed would delete nothing.
	const olderTake = `WITH l AS (SELECT true AS ok FROM pg_advisory_xact_lock(hashtextextended('peykar/engine/send_fold', 0)))
DELETE FROM send_outcome_log WHERE id IN (
    SELECT id FROM send_outcome_log WHERE (SELECT ok FROM l) ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)
RETURNING campaign_ids, contact_ids, recorded_at`
	fold := func(take string) error {
		tx, err := f.pool.Begin(ctx)
		require.NoError(t, err)
		defer func() { _ = tx.Rollback(ctx) }()
		rows, err := tx.Query(ctx, take, 64)
		if err != nil {
			return err
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		return tx.Commit(ctx)
	}
	err := fold(olderTake)
	require.Error(t, err, "an older fold may not delete a row whose counts it would not add")
	require.Contains(t, err.Error(), "holds step counts")
	require.EqualValues(t, 1, f.logRows(t), "the refused deletion rolled back")

	// A fold of migrations 049–051 adds the counts but not the contacts'
	// sent counts (its flush wrote them): refused too (migration 052).
	const countsTake = `WITH l AS (SELECT true AS ok, set_config('peykar.send_fold', 'counts', true) AS adds_counts
                  FROM pg_advisory_xact_lock(hashtextextended('peykar/engine/send_fold', 0)))
DELETE FROM send_outcome_log WHERE id IN (
    SELECT id FROM send_outcome_log WHERE (SELECT ok AND adds_counts = 'counts' FROM l) ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)
RETURNING campaign_ids, contact_ids, recorded_at, count_campaigns, count_steps, count_metrics, count_n`
	err = fold(countsTake)
	require.Error(t, err, "a fold that does not count the contacts' sends may not delete a row naming them")
	require.Contains(t, err.Error(), "names sent contacts")
	require.EqualValues(t, 1, f.logRows(t), "the refused deletion rolled back")
	// A row of such a version's flush (counts, no sent contacts: its flush
	// counted them) it may take.
	_, err = f.pool.Exec(ctx, `INSERT INTO send_outcome_log (campaign_ids, contact_ids, recorded_at, count_campaigns, count_steps, count_metrics, count_n)
		VALUES ('{}', '{}', now(), '{}', '{}', '{}', '{}')`)
	require.NoError(t, err)
	_, err = f.pool.Exec(ctx, `BEGIN; SELECT set_config('peykar.send_fold', 'counts', true);
		DELETE FROM send_outcome_log WHERE cardinality(sent_contact_ids) = 0; COMMIT`)
	require.NoError(t, err, "rows without sent contacts stay deletable by a fold of migrations 049–051")

	// A row an older flush wrote (no counts: its flush counted them) is
	// anyone's to take.
	_, err = f.pool.Exec(ctx, `INSERT INTO send_outcome_log (campaign_ids, contact_ids, recorded_at) VALUES ('{}', '{}', now())`)
	require.NoError(t, err)
	_, err = f.pool.Exec(ctx, `DELETE FROM send_outcome_log WHERE cardinality(count_n) = 0`)
	require.NoError(t, err, "rows without counts stay deletable by an older fold")

	refuse(false)
	f.requireState(t, map[string]int64{"sent": 1, "people_sent": 1}, 1, 0)
	require.Zero(t, f.logRows(t))
}

// TestSendFoldRedoesAFoldWhosePersonWasCreatedMeanwhile: the fold creates
// the people without a row by a plain INSERT. Here another transaction
// (as a click's fold would) inserts the person's row after the fold's
// snapshot and commits while the fold's insert waits for it: the insert
// fails on the key, the fold rolls back and is done again at once with the
// speculative insert, which refreshes the row instead. The fold succeeds,
// and the person, the counters and the contact's sent count equal the raw
// rows, each counted once.
func TestSendFoldRedoesAFoldWhosePersonWasCreatedMeanwhile(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	f := newFlushFixture(t)
	refused, refuse := refuseFolds(f.w)
	one := f.batch(t, f.a, "one", deliveries.Sent)
	f.w.flush(ctx, []*outcomeBatch{one})
	require.NoError(t, <-one.done)
	waitRefused(ctx, t, refused, 1, 1)

	blocker, err := f.pool.Begin(ctx)
	require.NoError(t, err)
	defer func() { _ = blocker.Rollback(ctx) }()
	_, err = blocker.Exec(ctx, `INSERT INTO campaign_people (campaign_id, contact_id) VALUES ($1, $2)`, f.campaignID, f.a)
	require.NoError(t, err)

	refuse(false)
	type result struct {
		n   int
		err error
	}
	done := make(chan result, 1)
	go func() {
		n, _, err := f.w.foldOnce(ctx, foldRows)
		done <- result{n, err}
	}()
	// Wait until a fold's people insert waits for the blocker's row (this
	// process's or the one the flush started: either one does the fold).
	poll := time.NewTicker(5 * time.Millisecond)
	defer poll.Stop()
	for waiting := false; !waiting; {
		require.NoError(t, f.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%INSERT INTO campaign_people%')`).Scan(&waiting))
		select {
		case <-poll.C:
		case <-ctx.Done():
			t.Fatal("no fold waited for the row")
		}
	}
	require.NoError(t, blocker.Commit(ctx))
	got := <-done
	require.NoError(t, got.err, "a people row created meanwhile does not fail the fold")
	f.requireState(t, map[string]int64{"sent": 1, "people_sent": 1}, 1, 0)
	require.Zero(t, f.logRows(t))
	require.GreaterOrEqual(t, f.w.fold.conflicts.Load(), int64(1), "the fold was done again after the conflict")
}
