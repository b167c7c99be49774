package tracking

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// inboxEvent is one click or open written straight to event_inbox.
type inboxEvent struct {
	delivery int64
	typ      string
	link     *int32
	machine  bool
	at       time.Time
}

// foldTogether commits evs to the inbox in one transaction, so that one
// fold takes them all, and waits until they are folded.
func foldTogether(t *testing.T, b *bundle, evs []inboxEvent) {
	t.Helper()
	ctx := context.Background()
	// Read before the commit: the follower may fold the batch as soon as
	// it is committed, before this function looks (a CI run under two CPU
	// hogs did).
	folds := b.svc.follower.folds.Load()
	tx, err := b.pool.Begin(ctx)
	require.NoError(t, err)
	defer func() { _ = tx.Rollback(ctx) }()
	var top int64
	for _, e := range evs {
		require.NoError(t, tx.QueryRow(ctx, `INSERT INTO event_inbox (id, delivery_id, type, link_idx, machine, user_agent, occurred_at)
			VALUES (nextval('events_id_seq'), $1, $2, $3, $4, $5, $6) RETURNING id`, e.delivery, e.typ, e.link, e.machine, browserUA, e.at).Scan(&top))
	}
	require.NoError(t, tx.Commit(ctx))
	// Settle waits for every event up to the highest id it was told of.
	b.svc.lastInbox.Store(top)
	b.settle(t)
	// The follower counts a fold after its commit, so Settle can see the
	// batch folded before the count moves (a CI run under two CPU hogs
	// saw 1 for 2): wait for it, then check that one fold took the batch.
	require.Eventually(t, func() bool { return b.svc.follower.folds.Load() > folds },
		30*time.Second, time.Millisecond, "the fold that took the batch is counted")
	require.Equal(t, folds+1, b.svc.follower.folds.Load(), "one fold took the batch")
}

func link(i int32) *int32 { return &i }

// A fold brings its people rows up to date from the batch when their
// deliveries only went up, and from their deliveries otherwise. In one
// batch: many opens and clicks of one person, machine before human; a
// person with two deliveries (steps); a person without a row; a machine
// open alone; and a person whose stored human click a burst in the batch
// turns into a machine's (their clicked state goes down). Each people row
// equals its deliveries and each people counter, human and machine, counts
// the rows, as the raw rows say.
func TestFoldBringsPeopleUpToDateFromTheBatch(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	camp := b.campaign(t, `[]`, `{}`, "https://shop.example/a", "https://shop.example/b", "https://shop.example/c")
	sent := time.Now().Add(-time.Hour)
	var ds, cs []int64
	for range 5 {
		d, c := b.delivery(t, camp, sent)
		ds, cs = append(ds, d), append(cs, c)
	}
	var resend int64
	require.NoError(t, b.pool.QueryRow(ctx, `INSERT INTO deliveries (campaign_id, step, contact_id, status, sent_at)
		VALUES ($1, 'resend', $2, 'sent', $3) RETURNING id`, camp, cs[1], sent).Scan(&resend))
	for i, c := range cs {
		if i == 2 {
			continue // no row: the fold creates it
		}
		_, err := b.pool.Exec(ctx, `INSERT INTO campaign_people (campaign_id, contact_id, sent, delivered) VALUES ($1, $2, true, true)`, camp, c)
		require.NoError(t, err)
	}
	_, err := b.pool.Exec(ctx, `INSERT INTO rollups (campaign_id, step, link_idx, metric, bucket, machine, count, value)
		VALUES ($1, '', -1, $2, date_trunc('minute', now()), false, 4, 0)`, camp, MetricPeopleSent)
	require.NoError(t, err)
	require.NoError(t, RebuildTotals(ctx, b.pool, camp))

	t0 := time.Now().Add(-time.Minute).Truncate(time.Second)
	// First, on their own: the person of ds[4] clicks as a human and a
	// machine opens ds[0] (a row that then goes from machine to human).
	foldTogether(t, b, []inboxEvent{{ds[4], TypeClick, link(0), false, t0}, {ds[0], TypeOpen, nil, true, t0}})
	require.Equal(t, int64(2), scalar[int64](t, b, `SELECT clicked::bigint FROM campaign_people WHERE campaign_id = $1 AND contact_id = $2`, camp, cs[4]))
	require.Equal(t, int64(1), scalar[int64](t, b, `SELECT opened::bigint FROM campaign_people WHERE campaign_id = $1 AND contact_id = $2`, camp, cs[0]))

	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	foldTogether(t, b, []inboxEvent{
		{ds[0], TypeOpen, nil, true, at(10)},
		{ds[0], TypeClick, link(0), true, at(20)},
		{ds[0], TypeOpen, nil, false, at(5000)},
		{ds[0], TypeClick, link(1), false, at(6000)},
		{ds[0], TypeClick, link(1), false, at(9000)},
		{ds[0], TypeOpen, nil, false, at(9500)},
		{ds[1], TypeOpen, nil, true, at(30)},
		{resend, TypeOpen, nil, false, at(40)},
		{resend, TypeOpen, nil, false, at(50)},
		{ds[2], TypeOpen, nil, false, at(60)},
		{ds[2], TypeClick, link(2), false, at(70)},
		{ds[3], TypeOpen, nil, true, at(80)},
		// A third link within a second of the stored click: a burst.
		{ds[4], TypeClick, link(1), false, at(100)},
		{ds[4], TypeClick, link(2), false, at(200)},
	})

	want := map[int64][2]int16{cs[0]: {2, 2}, cs[1]: {2, 0}, cs[2]: {2, 2}, cs[3]: {1, 0}, cs[4]: {0, 1}}
	for c, w := range want {
		var opened, clicked int16
		require.NoError(t, b.pool.QueryRow(ctx, `SELECT opened, clicked FROM campaign_people WHERE campaign_id = $1 AND contact_id = $2`,
			camp, c).Scan(&opened, &clicked))
		require.Equal(t, w, [2]int16{opened, clicked}, "contact %d: opened, clicked", c)
	}
	requireReportEqualsRawRows(t, b, camp)
	requirePeopleCountersEqualRows(t, b, camp)
}

// requirePeopleCountersEqualRows checks that the people rows' opened and
// clicked equal their deliveries' and that the people opens and clicks
// counters, human and machine, count the rows.
func requirePeopleCountersEqualRows(t *testing.T, b *bundle, camp int64) {
	t.Helper()
	require.Zero(t, b.count(t, `SELECT count(*) FROM campaign_people p JOIN (
		SELECT d.contact_id,
			(CASE WHEN bool_or(d.first_open_at IS NOT NULL) THEN 2 WHEN bool_or(d.first_machine_open_at IS NOT NULL) THEN 1 ELSE 0 END)::smallint AS opened,
			(CASE WHEN bool_or(d.first_click_at IS NOT NULL) THEN 2 WHEN bool_or(d.first_machine_click_at IS NOT NULL) THEN 1 ELSE 0 END)::smallint AS clicked
		FROM deliveries d WHERE d.campaign_id = $1 GROUP BY 1) a ON a.contact_id = p.contact_id
		WHERE p.campaign_id = $1 AND (p.opened, p.clicked) IS DISTINCT FROM (a.opened, a.clicked)`, camp),
		"people rows' opened and clicked differ from their deliveries")
	for _, c := range []struct {
		metric, column string
	}{{MetricPeopleOpens, "opened"}, {MetricPeopleClicks, "clicked"}} {
		for level, machine := range map[int]bool{2: false, 1: true} {
			want := b.count(t, `SELECT count(*) FROM campaign_people WHERE campaign_id = $1 AND `+c.column+` = $2`, camp, level)
			got := b.count(t, `SELECT coalesce(sum(count), 0)::bigint FROM rollup_totals
				WHERE campaign_id = $1 AND step = '' AND link_idx = -1 AND metric = $2 AND machine = $3`, camp, c.metric, machine)
			require.Equal(t, want, got, "%s, machine %v", c.metric, machine)
		}
	}
}
