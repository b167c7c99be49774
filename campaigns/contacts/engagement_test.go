package contacts

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// statsRow is one contact_stats row as read back by the engagement tests.
type statsRow struct {
	sent, opens, clicks int
	lastClick           *time.Time
}

func readStats(t *testing.T, b bundle, id int64) (statsRow, bool) {
	t.Helper()
	var r statsRow
	err := b.pool.QueryRow(b.ctx, `SELECT sent, opens, clicks, last_click_at FROM contact_stats WHERE contact_id = $1`, id).
		Scan(&r.sent, &r.opens, &r.clicks, &r.lastClick)
	if err == pgx.ErrNoRows {
		return r, false
	}
	require.NoError(t, err)
	return r, true
}

// clicksFor is an engagement of one click each for ids (sorted), at at.
func clicksFor(ids []int64, at time.Time) Engagement {
	e := Engagement{IDs: ids}
	for range ids {
		e.Opens, e.Clicks = append(e.Opens, 0), append(e.Clicks, 1)
		e.LastOpen, e.LastClick = append(e.LastOpen, nil), append(e.LastClick, &at)
	}
	return e
}

func engage(ctx context.Context, db DBTX, e Engagement) error {
	batch := &pgx.Batch{}
	QueueEngagement(batch, e)
	return db.SendBatch(ctx, batch).Close()
}

// A batch mixing contacts that have a contact_stats row and contacts that
// have none counts each once: the existing rows keep their sent count and
// gain the clicks, the missing ones are created. The next batch, with
// every row existing (the path a deployment takes: the send fold gives
// each contact sent to a row), adds to all of them. Written for the
// UPDATE-first statement tried on wt-trk13 (docs/benchmarks.md), which
// took a different path for each of these batches; it holds any
// statement to the same counts.
func TestEngagementCountsContactsWithAndWithoutARow(t *testing.T) {
	t.Parallel()
	b := setup(t)
	sent := b.mustCreate(t, ContactInput{Email: "sent@example.com"})
	fresh := b.mustCreate(t, ContactInput{Email: "fresh@example.com"})
	sent2 := b.mustCreate(t, ContactInput{Email: "sent2@example.com"})
	require.NoError(t, BumpSent(b.ctx, b.pool, []int64{sent, sent2}, time.Now()))
	at := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)

	require.NoError(t, engage(b.ctx, b.pool, clicksFor([]int64{sent, fresh, sent2}, at)))
	for id, want := range map[int64]statsRow{sent: {sent: 1, clicks: 1}, fresh: {clicks: 1}, sent2: {sent: 1, clicks: 1}} {
		got, ok := readStats(t, b, id)
		require.True(t, ok, "contact %d has its row", id)
		require.Equal(t, [3]int{want.sent, want.opens, want.clicks}, [3]int{got.sent, got.opens, got.clicks}, "contact %d", id)
		require.NotNil(t, got.lastClick)
		require.True(t, at.Equal(*got.lastClick), "contact %d last click %v", id, got.lastClick)
	}

	later := at.Add(time.Hour)
	require.NoError(t, engage(b.ctx, b.pool, clicksFor([]int64{sent, fresh, sent2}, later)))
	for id, want := range map[int64]int{sent: 1, fresh: 0, sent2: 1} {
		got, _ := readStats(t, b, id)
		require.Equal(t, [2]int{want, 2}, [2]int{got.sent, got.clicks}, "contact %d after the second batch", id)
		require.True(t, later.Equal(*got.lastClick), "contact %d last click %v", id, got.lastClick)
	}
}

// A contact whose row another transaction inserts while the batch runs (a
// send fold counting its first message) is counted once and keeps the
// other transaction's count: the batch, which cannot see the row yet,
// waits for that transaction and adds to the row it committed.
func TestEngagementAddsToARowInsertedMeanwhile(t *testing.T) {
	t.Parallel()
	b := setup(t)
	old := b.mustCreate(t, ContactInput{Email: "old@example.com"})
	fresh := b.mustCreate(t, ContactInput{Email: "fresh@example.com"})
	require.NoError(t, BumpSent(b.ctx, b.pool, []int64{old}, time.Now()))

	sender, err := b.pool.Begin(b.ctx)
	require.NoError(t, err)
	defer func() { _ = sender.Rollback(context.WithoutCancel(b.ctx)) }()
	require.NoError(t, BumpSent(b.ctx, sender, []int64{fresh}, time.Now())) // inserted, not committed

	conn, err := b.pool.Acquire(b.ctx)
	require.NoError(t, err)
	defer conn.Release()
	pid := conn.Conn().PgConn().PID()
	done := make(chan error, 1)
	go func() { done <- engage(b.ctx, conn, clicksFor([]int64{old, fresh}, time.Now())) }()

	// The batch waits for the sender's uncommitted row; commit only then,
	// so the row is inserted after the batch's snapshot.
	for deadline := time.Now().Add(time.Minute); ; {
		var waiting bool
		require.NoError(t, b.pool.QueryRow(b.ctx, `SELECT coalesce((SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = $1), false)`, pid).Scan(&waiting))
		if waiting {
			break
		}
		require.False(t, time.Now().After(deadline), "the batch never waited for the sender's row")
		// Poll again in 5 ms, or fail at once if the batch finished.
		select {
		case err := <-done:
			t.Fatalf("the batch finished (%v) without waiting for the row being inserted", err)
		case <-time.After(5 * time.Millisecond):
		}
	}
	require.NoError(t, sender.Commit(b.ctx))
	require.NoError(t, <-done)

	for id, want := range map[int64][2]int{old: {1, 1}, fresh: {1, 1}} {
		got, ok := readStats(t, b, id)
		require.True(t, ok)
		require.Equal(t, want, [2]int{got.sent, got.clicks}, "contact %d: sent and clicks", id)
	}
}
