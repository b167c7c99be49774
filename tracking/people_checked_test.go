package tracking

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The follower reads its people rows without locking them and writes a
// row only if it still holds what was read. Here another writer commits a
// change to a person's row between the fold's read and its write (a
// machine open of the person's other delivery, through the event writer,
// which locks the row as every writer does): the fold is rolled back and
// applied again with the rows locked, once. Every event is counted once,
// the people rows equal their deliveries and the people counters their
// rows (without the check, the fold would write the person's row back to
// the state it read and lose the other writer's open).
func TestCheckedFoldRetriesWithLocksWhenAPersonChanged(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	camp := b.campaign(t, `[]`, `{}`, "https://shop.example/a", "https://shop.example/b")
	sent := time.Now().Add(-time.Hour)
	var ds, cs []int64
	for range 4 {
		d, c := b.delivery(t, camp, sent)
		ds, cs = append(ds, d), append(cs, c)
		_, err := b.pool.Exec(ctx, `INSERT INTO campaign_people (campaign_id, contact_id, sent, delivered) VALUES ($1, $2, true, true)`, camp, c)
		require.NoError(t, err)
	}
	// The person of ds[0] has a second delivery (another step).
	var other int64
	require.NoError(t, b.pool.QueryRow(ctx, `INSERT INTO deliveries (campaign_id, step, contact_id, status, sent_at)
		VALUES ($1, 'resend', $2, 'sent', $3) RETURNING id`, camp, cs[0], sent).Scan(&other))
	seedPeopleSent(t, b, camp, 4)

	var calls atomic.Int32
	hook := peopleHook(func(ctx context.Context) error {
		if calls.Add(1) != 1 {
			return nil
		}
		// Committed by the event writer while the fold waits between its
		// read and its write of the people rows.
		_, err := b.svc.Record(ctx, Event{Type: TypeOpen, DeliveryID: other, Machine: true, Reason: "test", UserAgent: scannerUA})
		return err
	})
	b.svc.follower.applier.peopleRead.Store(&hook)

	relocked := b.svc.follower.relocked.Load()
	t0 := time.Now().Add(-time.Minute).Truncate(time.Second)
	var evs []inboxEvent
	for i, d := range ds {
		evs = append(evs, inboxEvent{d, TypeClick, link(int32(i % 2)), false, t0.Add(time.Duration(i) * time.Second)},
			inboxEvent{d, TypeClick, link(int32(i % 2)), false, t0.Add(time.Duration(i)*time.Second + 100*time.Millisecond)},
			inboxEvent{d, TypeOpen, nil, false, t0.Add(time.Duration(i)*time.Second + 200*time.Millisecond)})
	}
	foldTogether(t, b, evs)

	var opened, clicked int16
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT opened, clicked FROM campaign_people WHERE campaign_id = $1 AND contact_id = $2`,
		camp, cs[0]).Scan(&opened, &clicked))
	require.Equal(t, [2]int16{2, 2}, [2]int16{opened, clicked})
	require.Equal(t, int64(len(evs)+1), b.count(t, `SELECT count(*) FROM events WHERE campaign_id = $1`, camp), "each event stored once")
	requireReportEqualsRawRows(t, b, camp)
	requirePeopleCountersEqualRows(t, b, camp)
	require.Equal(t, int32(1), calls.Load(), "the checked fold read its people once; the retry locked them")
	require.Equal(t, relocked+1, b.svc.follower.relocked.Load(), "the fold was applied again with locks, once")
}

// Without a concurrent writer a fold's people rows are written by the
// checked statement alone: no retry, and many events of one person in one
// batch (opens of two deliveries, clicks on three links, machine before
// human) leave the row and the counters equal to the raw rows.
func TestCheckedFoldWritesPeopleOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	camp := b.campaign(t, `[]`, `{}`, "https://shop.example/a", "https://shop.example/b", "https://shop.example/c")
	sent := time.Now().Add(-time.Hour)
	d1, c := b.delivery(t, camp, sent)
	var d2 int64
	require.NoError(t, b.pool.QueryRow(ctx, `INSERT INTO deliveries (campaign_id, step, contact_id, status, sent_at)
		VALUES ($1, 'resend', $2, 'sent', $3) RETURNING id`, camp, c, sent).Scan(&d2))
	_, err := b.pool.Exec(ctx, `INSERT INTO campaign_people (campaign_id, contact_id, sent, delivered) VALUES ($1, $2, true, true)`, camp, c)
	require.NoError(t, err)
	seedPeopleSent(t, b, camp, 1)
	var calls atomic.Int32
	hook := peopleHook(func(context.Context) error { calls.Add(1); return nil })
	b.svc.follower.applier.peopleRead.Store(&hook)

	relocked := b.svc.follower.relocked.Load()
	t0 := time.Now().Add(-time.Minute).Truncate(time.Second)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	foldTogether(t, b, []inboxEvent{
		{d1, TypeOpen, nil, true, at(0)},
		{d2, TypeOpen, nil, true, at(10)},
		{d1, TypeClick, link(1), true, at(20)},
		{d1, TypeOpen, nil, false, at(3000)},
		{d1, TypeClick, link(0), false, at(4000)},
		{d2, TypeOpen, nil, false, at(5000)},
		{d1, TypeClick, link(0), false, at(6000)},
		{d1, TypeClick, link(2), false, at(9000)},
		{d2, TypeOpen, nil, false, at(9500)},
	})
	require.Equal(t, int32(1), calls.Load(), "one checked fold")
	require.Equal(t, relocked, b.svc.follower.relocked.Load(), "no retry")
	require.Equal(t, int64(2), scalar[int64](t, b, `SELECT clicked::bigint FROM campaign_people WHERE campaign_id = $1 AND contact_id = $2`, camp, c))
	requireReportEqualsRawRows(t, b, camp)
	requirePeopleCountersEqualRows(t, b, camp)
}

// A person's row the fold leaves as it is (their other delivery was
// clicked already) is verified too: here the event writer reclassifies
// that other delivery's click as a machine's (a honeypot hit) and lowers
// the row from its deliveries, which cannot see the fold's click, between
// the fold's read and its write. The fold is applied again with locks and
// the row ends as its deliveries say (a human click), the counters as the
// rows (without the check the row would stay lowered: clicked by a
// machine only).
func TestCheckedFoldVerifiesARowItLeaves(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	camp := b.campaign(t, `[]`, `{}`, "https://shop.example/a")
	_, err := b.pool.Exec(ctx, `INSERT INTO campaign_links (campaign_id, step, idx, url) VALUES ($1, 'resend', 0, 'https://shop.example/r')`, camp)
	require.NoError(t, err)
	sent := time.Now().Add(-time.Hour)
	d1, c := b.delivery(t, camp, sent)
	var d2 int64
	require.NoError(t, b.pool.QueryRow(ctx, `INSERT INTO deliveries (campaign_id, step, contact_id, status, sent_at)
		VALUES ($1, 'resend', $2, 'sent', $3) RETURNING id`, camp, c, sent).Scan(&d2))
	_, err = b.pool.Exec(ctx, `INSERT INTO campaign_people (campaign_id, contact_id, sent, delivered) VALUES ($1, $2, true, true)`, camp, c)
	require.NoError(t, err)
	seedPeopleSent(t, b, camp, 1)

	t0 := time.Now().Add(-time.Minute).Truncate(time.Second)
	foldTogether(t, b, []inboxEvent{{d2, TypeClick, link(0), false, t0}})
	require.Equal(t, int64(2), scalar[int64](t, b, `SELECT clicked::bigint FROM campaign_people WHERE campaign_id = $1 AND contact_id = $2`, camp, c))

	var calls atomic.Int32
	hook := peopleHook(func(ctx context.Context) error {
		if calls.Add(1) != 1 {
			return nil
		}
		_, err := b.svc.Record(ctx, Event{Type: TypeHoneypot, DeliveryID: d2, UserAgent: browserUA, At: t0.Add(time.Second)})
		return err
	})
	b.svc.follower.applier.peopleRead.Store(&hook)
	relocked := b.svc.follower.relocked.Load()
	foldTogether(t, b, []inboxEvent{{d1, TypeClick, link(0), false, t0.Add(30 * time.Second)}})

	require.Equal(t, int64(1), b.count(t, `SELECT count(*) FROM events WHERE delivery_id = $1 AND type = 'click' AND machine`, d2),
		"the other delivery's click was reclassified")
	require.Equal(t, int64(2), scalar[int64](t, b, `SELECT clicked::bigint FROM campaign_people WHERE campaign_id = $1 AND contact_id = $2`, camp, c))
	requireReportEqualsRawRows(t, b, camp)
	requirePeopleCountersEqualRows(t, b, camp)
	require.Equal(t, int32(1), calls.Load())
	require.Equal(t, relocked+1, b.svc.follower.relocked.Load(), "the fold was applied again with locks, once")
}

// seedPeopleSent counts n people sent in the campaign's people counters,
// as the send outcomes that created their rows would have.
func seedPeopleSent(t *testing.T, b *bundle, camp, n int64) {
	t.Helper()
	ctx := context.Background()
	_, err := b.pool.Exec(ctx, `INSERT INTO rollups (campaign_id, step, link_idx, metric, bucket, machine, count, value)
		VALUES ($1, '', -1, $2, date_trunc('minute', now()), false, $3, 0)`, camp, MetricPeopleSent, n)
	require.NoError(t, err)
	require.NoError(t, RebuildTotals(ctx, b.pool, camp))
}
