package tracking

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/migrations/pgtest"
)

// splitClicked reads a delivery with its batch's others when its bound is
// within clickedRecentSpan of the latest, from the earliest such bound;
// an older bound, or none, keeps its own probe.
func TestSplitClicked(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	ids := []int64{1, 2, 3, 4, 5}
	since := []time.Time{
		now.Add(-time.Hour),
		now.AddDate(0, 0, -20),
		{}, // no bound: every month
		now.AddDate(0, -4, 0),
		now.Add(-clickedRecentSpan), // at the edge: still recent
	}
	r := splitClicked(ids, since)
	require.Equal(t, []int64{1, 2, 5}, r.recent)
	require.Equal(t, now.Add(-clickedRecentSpan), r.bound, "the earliest recent bound")
	require.Equal(t, []int64{3, 4}, r.older)
	require.Equal(t, []time.Time{{}, now.AddDate(0, -4, 0)}, r.olderSince)

	require.Empty(t, splitClicked(nil, nil).recent)
}

// The click history's reads (clicked_links and clicked_links_each) return,
// for a batch mixing a delivery clicked months ago with recently clicked
// ones, exactly what an unbounded read of every month returns: the old
// delivery through its own probe, a recent one clicked three weeks ago
// through the shared scan's earliest bound, and opens (no link) left out.
func TestClickedLinksReadsEveryMonthsClicks(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	now := time.Now().UTC().Truncate(time.Microsecond)
	old := MonthStart(now).AddDate(0, -3, 0)
	_, err := EnsurePartitions(ctx, pool, old, 0)
	require.NoError(t, err)
	f := seedCampaign(t, pool, 5, old)
	d := f.deliveries
	type ev struct {
		d       int64
		typ     string
		link    *int
		machine bool
		at      time.Time
	}
	link := func(i int) *int { return &i }
	evs := []ev{
		{d[0], "click", link(0), false, old.Add(time.Hour)},
		{d[0], "click", link(0), false, now.Add(-time.Minute)},
		{d[1], "click", link(0), false, now.AddDate(0, 0, -20)},
		{d[1], "click", link(1), true, now},
		{d[2], "click", link(2), false, now.Add(-time.Hour)},
		{d[2], "open", nil, false, now},
		{d[3], "click", link(0), false, now.Add(-2 * time.Hour)},
		{d[3], "click", link(0), true, now.Add(-time.Hour)},
		// d[4]: clicked (as far as its firsts say) but no click stored
	}
	first := map[int64]time.Time{}
	for _, e := range evs {
		_, err := pool.Exec(ctx, `INSERT INTO events (delivery_id, campaign_id, step, contact_id, type, link_idx, machine, occurred_at)
			SELECT id, campaign_id, step, contact_id, $2, $3, $4, $5 FROM deliveries WHERE id = $1`, e.d, e.typ, e.link, e.machine, e.at)
		require.NoError(t, err)
		if f, ok := first[e.d]; e.link != nil && (!ok || e.at.Before(f)) {
			first[e.d] = e.at
		}
	}
	first[d[4]] = now
	since := make([]time.Time, len(d))
	for i, id := range d {
		since[i] = first[id].Add(-clickedSinceMargin)
	}
	r := splitClicked(d, since)
	require.Equal(t, []int64{d[0]}, r.older, "the delivery clicked months ago is probed alone")
	require.Len(t, r.recent, 4)

	type row struct {
		d           int64
		link        int32
		human, mach bool
		last        time.Time
	}
	read := func(q string, args ...any) []row {
		rows, err := pool.Query(ctx, q, args...)
		require.NoError(t, err)
		out, err := pgx.CollectRows(rows, func(rows pgx.CollectableRow) (row, error) {
			var x row
			err := rows.Scan(&x.d, &x.link, &x.human, &x.mach, &x.last)
			x.last = x.last.UTC()
			return x, err
		})
		require.NoError(t, err)
		return out
	}
	// The writer's bound (nil: the watermark committed; every event here is folded).
	var seen *int64
	got := append(read(query("clicked_links"), r.recent, r.bound, seen), read(query("clicked_links_each"), r.older, r.olderSince, seen)...)
	want := read(`SELECT delivery_id, link_idx, bool_or(NOT machine), bool_or(machine), max(occurred_at) FROM events
		WHERE delivery_id = ANY ($1) AND link_idx IS NOT NULL GROUP BY 1, 2`, d)
	require.Len(t, want, 5)
	require.ElementsMatch(t, want, got)
}

// A fold whose batch holds a second click of a delivery first clicked
// months ago and of one first clicked an hour ago reads both deliveries'
// click history (the first through clicked_links_each, the second through
// clicked_links): each second click is a click, not another clicker of
// its link.
func TestFoldReadsOldAndRecentClickHistories(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	now := time.Now()
	old := MonthStart(now).AddDate(0, -3, 0)
	_, err := EnsurePartitions(ctx, pool, old, 0)
	require.NoError(t, err)
	f := seedCampaign(t, pool, 2, old.AddDate(0, 0, -1))
	svc := newService(t, pool)
	for i, at := range []time.Time{old.Add(time.Hour), now.Add(-time.Hour)} {
		_, err := svc.Record(ctx, Event{Type: TypeClick, DeliveryID: f.deliveries[i], LinkIdx: 0, UserAgent: browserUA, At: at})
		require.NoError(t, err)
	}
	require.NoError(t, svc.Settle(ctx))
	require.NoError(t, svc.Close(ctx))

	// Both second clicks wait in the inbox before a follower starts, so
	// its first fold takes them together.
	_, err = pool.Exec(ctx, `INSERT INTO event_inbox (id, delivery_id, type, link_idx, machine, user_agent, occurred_at)
		SELECT nextval('events_id_seq'), d, 'click', 0, false, $2, now() FROM unnest($1::bigint[]) d`, f.deliveries, browserUA)
	require.NoError(t, err)
	svc = newService(t, pool)
	defer func() { require.NoError(t, svc.Close(ctx)) }()
	require.Eventually(t, func() bool {
		var waiting int64
		require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM event_inbox`).Scan(&waiting))
		return waiting == 0
	}, 30*time.Second, 5*time.Millisecond, "the inbox is folded")
	sum := func(metric string) int64 { return humanTotal(t, pool, f.campaign, metric) }
	require.Equal(t, int64(4), sum(MetricClicks))
	require.Equal(t, int64(2), sum(MetricLinkUniqueClicks), "one clicker of the link per delivery, whichever month")
	require.Equal(t, int64(2), sum(MetricUniqueClicks))
}
