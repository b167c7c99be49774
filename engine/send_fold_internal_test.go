package engine

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/campaigns/deliveries"
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

// waitRefused waits for n refused folds (or fails the test at ctx's end).
func waitRefused(ctx context.Context, t *testing.T, refused <-chan int, n int) {
	t.Helper()
	for range n {
		select {
		case got := <-refused:
			require.Equal(t, 3, got, "outcomes in the refused fold")
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
// commits the deliveries, the step counters, the contacts' sent counts (the
// contact sent two messages counts two) and one log row; the fold is
// refused twice after its statements ran (rolled back: the people stay
// untouched, the row stays in the log), then allowed: each person counts
// once, and a further fold finds nothing to fold again.
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
	waitRefused(ctx, t, refused, 2)

	var stepSent, stepBounced, people, sentA int64
	require.NoError(t, f.pool.QueryRow(ctx, `SELECT
		(SELECT coalesce(sum(count), 0) FROM rollup_totals WHERE campaign_id = $1 AND metric = 'sent')::bigint,
		(SELECT coalesce(sum(count), 0) FROM rollup_totals WHERE campaign_id = $1 AND metric = 'send_bounced')::bigint,
		(SELECT count(*) FROM campaign_people WHERE campaign_id = $1),
		(SELECT sent FROM contact_stats WHERE contact_id = $2)`, f.campaignID, f.a).Scan(&stepSent, &stepBounced, &people, &sentA))
	require.Equal(t, [4]int64{2, 1, 0, 2}, [4]int64{stepSent, stepBounced, people, sentA},
		"the flush commits the step counters and the contacts' sent counts (two sends, two); refused folds leave the people untouched")
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
	waitRefused(ctx, t, refused, 1)
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
