package reports_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// A click answered but not folded yet (followed, above tracking_watermark:
// migration 053, docs/metrics.md "How a report is read") is counted by
// neither deliveries.csv nor the report while it waits, and by both once
// the fold that counts it commits: the export equals the report in every
// snapshot, not only once settled. The follower is held off by its lock
// (as another process's fold would), so the wait is an observed state.
func TestDeliveriesCSVLeavesUnfoldedEventsOut(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	c := b.seed(t, 3, 100)
	b.launch(t, c)
	ids, _ := b.deliveries(t, c.ID)
	require.NotEmpty(t, ids)

	hold, err := b.pool.Acquire(ctx)
	require.NoError(t, err)
	defer hold.Release()
	_, err = hold.Exec(ctx, `SELECT pg_advisory_lock(hashtextextended('peykar/tracking/follower', 0))`)
	require.NoError(t, err)
	// The row a click's request writes (tracking's clicks_insert).
	var ev int64
	require.NoError(t, b.pool.QueryRow(ctx, `INSERT INTO events (id, delivery_id, campaign_id, step, contact_id, type, link_idx, machine, reason, user_agent, occurred_at, followed)
		SELECT nextval('events_id_seq'), id, campaign_id, step, contact_id, 'click', 0, false, '', 'Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0', now(), true
		FROM deliveries WHERE id = $1 RETURNING id`, ids[0]).Scan(&ev))

	clicks := func() (csv, report int64) {
		recs := readCSV(t, b, "/campaigns/"+itoa(c.ID)+"/deliveries.csv")
		col := map[string]int{}
		for i, h := range recs[0] {
			col[h] = i
		}
		for _, rec := range recs[1:] {
			n, err := strconv.ParseInt(rec[col["total_clicks"]], 10, 64)
			require.NoError(t, err)
			csv += n
		}
		r, err := b.svc.Report(ctx, c.ID)
		require.NoError(t, err)
		return csv, r.Metrics.TotalClicks
	}
	csv, report := clicks()
	require.Zero(t, csv, "deliveries.csv leaves the waiting click out")
	require.Zero(t, report, "the report has not counted it")

	_, err = hold.Exec(ctx, `SELECT pg_advisory_unlock(hashtextextended('peykar/tracking/follower', 0))`)
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		var folded bool
		require.NoError(t, b.pool.QueryRow(ctx, `SELECT id >= $1 FROM tracking_watermark`, ev).Scan(&folded))
		return folded
	}, time.Minute, 5*time.Millisecond, "the follower folds the click")
	csv, report = clicks()
	require.Equal(t, int64(1), csv, "folded: in deliveries.csv")
	require.Equal(t, int64(1), report, "and in the report")
}
