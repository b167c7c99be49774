package reports_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestFoldedRollupsStillEqualRawCounts ages a campaign's data by two days
// so the report folds its minute rollups into hours, then checks the
// report against the raw tables again, timeline included.
func TestFoldedRollupsStillEqualRawCounts(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	c := b.seed(t, 40, 7)
	b.launch(t, c)
	generateEvents(t, b, c)
	const age = "2 days"
	_, err := b.pool.Exec(ctx, `UPDATE campaigns SET launched_at = launched_at - interval '3 days' WHERE id = $1`, c.ID)
	require.NoError(t, err)
	_, err = b.pool.Exec(ctx, `UPDATE rollups SET bucket = bucket - interval '`+age+`' WHERE campaign_id = $1`, c.ID)
	require.NoError(t, err)
	var launchedAt time.Time
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT launched_at FROM campaigns WHERE id = $1`, c.ID).Scan(&launchedAt))
	var minuteRows int64
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT count(*) FROM rollups WHERE campaign_id = $1 AND bucket <> date_trunc('hour', bucket, 'UTC')
		AND bucket < now() - interval '3 hours' AND bucket >= $2`, c.ID, launchedAt.Add(25*time.Hour)).Scan(&minuteRows))
	require.Positive(t, minuteRows, "the aged data has minute rows to fold")

	r, err := b.svc.Report(ctx, c.ID)
	require.NoError(t, err)
	var after int64
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT count(*) FROM rollups WHERE campaign_id = $1 AND bucket <> date_trunc('hour', bucket, 'UTC')
		AND bucket < now() - interval '3 hours' AND bucket >= $2`, c.ID, r.LaunchedAt.Add(25*time.Hour)).Scan(&after))
	require.Zero(t, after, "minute rows of the second day were folded (there were %d minute rows)", minuteRows)
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT count(*) FROM rollups WHERE campaign_id = $1 AND bucket <> date_trunc('hour', bucket, 'UTC')
		AND bucket < now() - interval '3 hours' AND metric IN ('unique_opens', 'unique_clicks', 'link_unique_clicks', 'unsubscribes')`, c.ID).Scan(&after))
	require.Zero(t, after, "metrics the timeline does not draw are folded from launch on")

	raw := rawMetrics(t, b, c.ID, "")
	requireMetrics(t, raw, r.Metrics, "folded")
	requireMetrics(t, rawMetrics(t, b, c.ID, "main"), r.Steps["main"], "folded main")

	launched := r.LaunchedAt.UTC().Add(24 * time.Hour)
	edge := launched.Truncate(time.Hour)
	if edge.Before(launched) {
		edge = edge.Add(time.Hour)
	}
	got := map[time.Time]int64{}
	for _, p := range r.Timeline {
		got[p.At] += p.Opens
	}
	rows, err := b.pool.Query(ctx, `SELECT CASE WHEN ts < $2 THEN date_trunc('minute', ts) ELSE date_trunc('hour', ts, 'UTC') END, count(*)
		FROM (SELECT occurred_at - interval '`+age+`' AS ts FROM events WHERE campaign_id = $1 AND type = 'open' AND NOT machine) e
		GROUP BY 1`, c.ID, edge)
	require.NoError(t, err)
	n := 0
	for rows.Next() {
		var at time.Time
		var opens int64
		require.NoError(t, rows.Scan(&at, &opens))
		require.Equal(t, opens, got[at.UTC()], "opens at %s", at.UTC())
		n++
	}
	require.NoError(t, rows.Err())
	require.Positive(t, n)
}
