package tracking

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"
)

// watermark is the highest followed event id folded, as committed.
func watermark(t *testing.T, b *bundle) int64 {
	t.Helper()
	return scalar[int64](t, b, `SELECT id FROM tracking_watermark`)
}

// waitLockWaiter waits (polling, with a deadline) until some session waits
// for an advisory lock: the follower's bound behind a group commit holding
// clicks_lock (or a group commit queued behind the follower's bound).
func waitLockWaiter(t *testing.T, b *bundle) {
	t.Helper()
	require.Eventually(t, func() bool {
		return b.count(t, `SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted
			AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`) > 0
	}, 30*time.Second, time.Millisecond, "the follower waits for the group commit holding clicks_lock")
}

// A group commit that took its ids first (another process's, held open
// here with the lock it takes) and commits after a later request was
// answered: the follower's bound waits for it (observed in pg_locks), so
// no fold moves the watermark past an event that can still commit. Both
// are folded, each once.
func TestFollowerFoldsFollowedEventsCommittedOutOfIdOrder(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	camp := b.campaign(t, `[]`, `{}`, "https://shop.example/a")
	d1, _ := b.delivery(t, camp, time.Now().Add(-time.Hour))
	d2, _ := b.delivery(t, camp, time.Now().Add(-time.Hour))

	// The slow group commit of another process (a pool of its own): the
	// lock, its event's id, no commit yet.
	other, err := pgxpool.NewWithConfig(ctx, b.pool.Config())
	require.NoError(t, err)
	t.Cleanup(other.Close)
	tx, err := other.Begin(ctx)
	require.NoError(t, err)
	defer func() { _ = tx.Rollback(ctx) }()
	_, err = tx.Exec(ctx, query("clicks_lock"))
	require.NoError(t, err)
	var late int64
	require.NoError(t, tx.QueryRow(ctx, `INSERT INTO events (id, delivery_id, campaign_id, step, contact_id, type, machine, user_agent, occurred_at, followed)
		SELECT nextval('events_id_seq'), id, campaign_id, step, contact_id, 'open', false, $2, now(), true FROM deliveries WHERE id = $1
		RETURNING id`, d1, browserUA).Scan(&late))

	// A later open: its commit wakes the follower, whose bound waits.
	answered := make(chan int, 1)
	go func() {
		res, _ := b.doNow(t, http.MethodGet, b.signer.OpenURL(b.url, d2), browserUA)
		answered <- res.StatusCode
	}()
	waitLockWaiter(t, b)
	require.Zero(t, b.rollup(t, camp, MetricOpens, false), "nothing folded while a lower id can still commit")
	require.Less(t, watermark(t, b), late)

	require.NoError(t, tx.Commit(ctx))
	require.Equal(t, http.StatusOK, <-answered)
	b.settle(t)
	later := scalar[int64](t, b, `SELECT id FROM events WHERE delivery_id = $1`, d2)
	require.Greater(t, later, late, "the later request took the higher id")
	require.GreaterOrEqual(t, watermark(t, b), later)
	require.Equal(t, int64(2), b.rollup(t, camp, MetricOpens, false), "both folded, each once")
	require.NotNil(t, scalar[*time.Time](t, b, `SELECT first_open_at FROM deliveries WHERE id = $1`, d1), "the late commit is folded")
	require.NotNil(t, scalar[*time.Time](t, b, `SELECT first_open_at FROM deliveries WHERE id = $1`, d2))
	requireReportEqualsRawRows(t, b, camp)
}

// A rolling deploy: an older process writes event_inbox while this one
// writes events, on the same deliveries and links. The follower drains
// both, and every event is counted once: the report equals the raw rows,
// and each inbox row became one events row with its id.
func TestFollowerFoldsInboxRowsAndFollowedEventsOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	camp := b.campaign(t, `[]`, `{}`, "https://shop.example/a", "https://shop.example/b")
	var ds []int64
	for range 6 {
		d, _ := b.delivery(t, camp, time.Now().Add(-time.Hour))
		ds = append(ds, d)
	}
	var inboxIDs []int64
	old := func(d int64, typ string, link *int32) {
		var id int64
		require.NoError(t, b.pool.QueryRow(ctx, `INSERT INTO event_inbox (id, delivery_id, type, link_idx, machine, user_agent, occurred_at)
			VALUES (nextval('events_id_seq'), $1, $2, $3, false, $4, now()) RETURNING id`, d, typ, link, browserUA).Scan(&id))
		inboxIDs = append(inboxIDs, id)
	}
	var urls []string
	for i, d := range ds {
		old(d, TypeOpen, nil)
		old(d, TypeClick, link(int32(i%2)))
		urls = append(urls, b.signer.OpenURL(b.url, d), b.signer.ClickURL(b.url, d, (i+1)%2, ""), b.signer.ClickURL(b.url, d, i%2, ""))
	}
	answered := clickAll(t, b, urls)
	for _, d := range ds {
		old(d, TypeClick, link(1))
	}
	// Settle covers the highest id it answered; the inbox's last rows came after.
	for {
		last := b.svc.lastInbox.Load()
		if last >= inboxIDs[len(inboxIDs)-1] || b.svc.lastInbox.CompareAndSwap(last, inboxIDs[len(inboxIDs)-1]) {
			break
		}
	}
	b.settle(t)

	total := int64(len(inboxIDs)) + answered
	require.Equal(t, total, b.count(t, `SELECT count(*) FROM events WHERE campaign_id = $1`, camp))
	require.Equal(t, total, b.count(t, `SELECT count(DISTINCT id) FROM events WHERE campaign_id = $1`, camp))
	require.Equal(t, int64(len(inboxIDs)), b.count(t, `SELECT count(*) FROM events WHERE id = ANY($1) AND NOT followed`, inboxIDs),
		"each inbox row is one events row with its id")
	require.Equal(t, total, b.rollup(t, camp, MetricOpens, false)+b.rollup(t, camp, MetricOpens, true)+
		b.rollup(t, camp, MetricClicks, false)+b.rollup(t, camp, MetricClicks, true), "each counted once")
	requireReportEqualsRawRows(t, b, camp)
}

// A fold that fails after its writes (here its commit is refused, as a
// crash before the commit would be) rolls its watermark back with them:
// the next fold starts from the watermark committed before and takes the
// same events, and each is counted once.
func TestFoldThatFailsRollsBackItsWatermark(t *testing.T) {
	t.Parallel()
	b := setup(t)
	camp := b.campaign(t, `[]`, `{}`, "https://shop.example/a")
	var urls []string
	for range 20 {
		d, _ := b.delivery(t, camp, time.Now().Add(-time.Hour))
		urls = append(urls, b.signer.ClickURL(b.url, d, 0, ""))
	}
	before := watermark(t, b)
	errCrash := errors.New("test: the fold dies before its commit")
	var failed atomic.Bool
	var moved, committedAfter atomic.Int64
	hook := foldHook(func(ctx context.Context, tx pgx.Tx, n int) error {
		if n == 0 {
			return nil
		}
		var inTx int64
		if err := tx.QueryRow(ctx, `SELECT id FROM tracking_watermark`).Scan(&inTx); err != nil {
			return err
		}
		if !failed.Load() {
			moved.Store(inTx)
			failed.Store(true)
			return errCrash
		}
		// The next fold: the failed one's watermark was not committed.
		var committed int64
		if err := b.pool.QueryRow(ctx, `SELECT id FROM tracking_watermark`).Scan(&committed); err != nil {
			return err
		}
		committedAfter.CompareAndSwap(0, committed)
		return nil
	})
	b.svc.follower.beforeCommit.Store(&hook)
	answered := clickAll(t, b, urls)
	b.settle(t)

	require.True(t, failed.Load(), "a fold failed")
	require.Greater(t, moved.Load(), before, "the failed fold had moved the watermark in its transaction")
	require.Equal(t, before, committedAfter.Load(), "the next fold saw the watermark as before the failed one")
	require.Equal(t, answered, b.rollup(t, camp, MetricClicks, false)+b.rollup(t, camp, MetricClicks, true), "each click counted once")
	requireReportEqualsRawRows(t, b, camp)
}

// A fold reads a delivery's click history without the followed events
// above its own (not counted yet): two clicks of a new link waiting
// together, folded one per fold, make one unique click of that link. Read
// with the later click, the first would not be unique; read with the first
// folded, the later is not: a history that counted unfolded events would
// make none.
func TestFoldHistoryLeavesLaterUnfoldedClicksOut(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *Config) { c.FoldBatch = 1 })
	ctx := context.Background()
	camp := b.campaign(t, `[]`, `{}`, "https://shop.example/a", "https://shop.example/b")
	d, _ := b.delivery(t, camp, time.Now().Add(-time.Hour))
	res, _ := b.doNow(t, http.MethodGet, b.signer.ClickURL(b.url, d, 1, ""), browserUA)
	require.Equal(t, http.StatusFound, res.StatusCode)
	b.settle(t) // the delivery has a first click: later folds read its history

	hold, err := b.pool.Acquire(ctx)
	require.NoError(t, err)
	defer hold.Release()
	_, err = hold.Exec(ctx, `SELECT pg_advisory_lock(hashtextextended('peykar/tracking/follower', 0))`)
	require.NoError(t, err)
	for range 2 {
		res, _ := b.doNow(t, http.MethodGet, b.signer.ClickURL(b.url, d, 0, ""), browserUA)
		require.Equal(t, http.StatusFound, res.StatusCode)
	}
	require.Equal(t, int64(2), b.count(t, `SELECT count(*) FROM events WHERE delivery_id = $1 AND followed
		AND id > (SELECT id FROM tracking_watermark)`, d), "both clicks wait to be folded")
	_, err = hold.Exec(ctx, `SELECT pg_advisory_unlock(hashtextextended('peykar/tracking/follower', 0))`)
	require.NoError(t, err)
	b.settle(t)

	require.Equal(t, int64(3), b.rollup(t, camp, MetricClicks, false), "three human clicks")
	require.Equal(t, int64(2), b.rollup(t, camp, MetricLinkUniqueClicks, false), "each link clicked once as unique")
	requireReportEqualsRawRows(t, b, camp)
}

// A process older than migration 053 during a rolling deploy: its
// follower's take (main's follower_take, the same statement) deletes no
// inbox row, so it folds nothing and never reads unfolded followed events
// as history; its reclassification of a delivery's clicks (main's
// reclassify_clicks) changes a folded click and leaves a followed click
// not yet counted as it is (not returned: its counts are not moved). A
// newer fold then drains the inbox and counts each event once.
func TestOlderProcessTakesNothingAndLeavesUnfoldedClicks(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	camp := b.campaign(t, `[]`, `{}`, "https://shop.example/a", "https://shop.example/b")
	d, _ := b.delivery(t, camp, time.Now().Add(-time.Hour))
	res, _ := b.doNow(t, http.MethodGet, b.signer.ClickURL(b.url, d, 1, ""), browserUA)
	require.Equal(t, http.StatusFound, res.StatusCode)
	b.settle(t)

	hold, err := b.pool.Acquire(ctx)
	require.NoError(t, err)
	defer hold.Release()
	_, err = hold.Exec(ctx, `SELECT pg_advisory_lock(hashtextextended('peykar/tracking/follower', 0))`)
	require.NoError(t, err)
	res, _ = b.doNow(t, http.MethodGet, b.signer.ClickURL(b.url, d, 0, ""), browserUA)
	require.Equal(t, http.StatusFound, res.StatusCode)
	var inboxID int64
	require.NoError(t, b.pool.QueryRow(ctx, `INSERT INTO event_inbox (id, delivery_id, type, link_idx, machine, user_agent, occurred_at)
		VALUES (nextval('events_id_seq'), $1, 'open', NULL, false, $2, now()) RETURNING id`, d, browserUA).Scan(&inboxID))

	old, err := b.pool.Begin(ctx)
	require.NoError(t, err)
	defer func() { _ = old.Rollback(ctx) }()
	rows, err := old.Query(ctx, `DELETE FROM event_inbox WHERE id IN (SELECT id FROM event_inbox ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)
		RETURNING id`, 100)
	require.NoError(t, err)
	taken, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	require.NoError(t, err)
	require.Empty(t, taken, "an older follower takes nothing")
	rows, err = old.Query(ctx, `UPDATE events SET machine = true, reason = 'burst'
		WHERE delivery_id = $1 AND type || '' = 'click' AND NOT machine AND occurred_at BETWEEN $2 AND $3
		RETURNING link_idx`, d, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	require.NoError(t, err)
	moved, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	require.NoError(t, err)
	require.Equal(t, []int32{1}, moved, "the folded click is reclassified, the waiting one is not")
	require.NoError(t, old.Rollback(ctx))

	_, err = hold.Exec(ctx, `SELECT pg_advisory_unlock(hashtextextended('peykar/tracking/follower', 0))`)
	require.NoError(t, err)
	for {
		last := b.svc.lastInbox.Load()
		if last >= inboxID || b.svc.lastInbox.CompareAndSwap(last, inboxID) {
			break
		}
	}
	b.settle(t)
	require.Zero(t, b.count(t, `SELECT count(*) FROM event_inbox`), "a newer fold drains the inbox")
	require.Equal(t, int64(2), b.rollup(t, camp, MetricClicks, false))
	require.Equal(t, int64(1), b.rollup(t, camp, MetricOpens, false))
	requireReportEqualsRawRows(t, b, camp)
}
