package reports_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/campaigns"
	"github.com/peykar/peykar/tracking"
)

// TestFoldedRollupsStillEqualRawCounts ages a campaign's data by two days,
// checks that a report neither folds nor needs folding to be exact, then
// runs the periodic fold job (tracking.FoldWorker) and checks the report
// against the raw tables again, timeline included.
func TestFoldedRollupsStillEqualRawCounts(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	c := b.seed(t, 40, 7)
	b.launch(t, c)
	generateEvents(t, b, c)
	const age = "2 days"
	// Raw on purpose: aging a launched campaign and its minute rows by hand
	// is what no owner does; the test is about folding such rows.
	_, err := b.pool.Exec(ctx, `UPDATE campaigns SET launched_at = launched_at - interval '3 days' WHERE id = $1`, c.ID)
	require.NoError(t, err)
	_, err = b.pool.Exec(ctx, `UPDATE rollups SET bucket = bucket - interval '`+age+`' WHERE campaign_id = $1`, c.ID)
	require.NoError(t, err)
	// Aging rows by hand is not a write tracking made: rebuild the totals
	// and hours from the aged rollups.
	require.NoError(t, tracking.RebuildTotals(ctx, b.pool, c.ID))
	var launchedAt time.Time
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT launched_at FROM campaigns WHERE id = $1`, c.ID).Scan(&launchedAt))
	minuteRows := func(extra string, args ...any) int64 {
		var n int64
		require.NoError(t, b.pool.QueryRow(ctx, `SELECT count(*) FROM rollups WHERE campaign_id = $1 AND bucket <> date_trunc('hour', bucket, 'UTC')
			AND bucket < now() - interval '3 hours' `+extra, append([]any{c.ID}, args...)...).Scan(&n))
		return n
	}
	secondDay := minuteRows(`AND bucket >= $2`, launchedAt.Add(25*time.Hour))
	require.Positive(t, secondDay, "the aged data has minute rows to fold")

	unfolded, err := b.svc.Report(ctx, c.ID)
	require.NoError(t, err)
	require.Equal(t, secondDay, minuteRows(`AND bucket >= $2`, launchedAt.Add(25*time.Hour)), "a report does not fold")
	requireMetrics(t, rawMetrics(t, b, c.ID, ""), unfolded.Metrics, "unfolded")

	job := &river.Job[tracking.FoldArgs]{JobRow: &rivertype.JobRow{}}
	require.NoError(t, (&tracking.FoldWorker{Pool: b.pool}).Work(ctx, job))
	require.Zero(t, minuteRows(`AND bucket >= $2`, launchedAt.Add(25*time.Hour)), "minute rows of the second day were folded (there were %d minute rows)", secondDay)
	require.Zero(t, minuteRows(`AND metric IN ('unique_opens', 'unique_clicks', 'link_unique_clicks', 'unsubscribes')`),
		"metrics the timeline does not draw are folded from launch on")
	r, err := b.svc.Report(ctx, c.ID)
	require.NoError(t, err)
	require.Equal(t, unfolded.Metrics, r.Metrics, "folding changes no number")
	require.Equal(t, unfolded.Steps, r.Steps, "folding changes no step's number")

	raw := rawMetrics(t, b, c.ID, "")
	requireMetrics(t, raw, r.Metrics, "folded")
	requireMetrics(t, rawMetrics(t, b, c.ID, "main"), r.Steps["main"], "folded main")

	// The default timeline of a campaign days old is hourly, and adds up.
	require.Equal(t, campaigns.ResolutionHour, r.TimelineResolution)
	requireTimeline(t, b, c.ID, r.Timeline, "hour", age, time.Time{}, time.Time{})

	// Bad windows are clear errors.
	from := r.LaunchedAt.UTC()
	_, err = b.svc.ReportWith(ctx, c.ID, campaigns.ReportOptions{From: from, To: from.Add(48 * time.Hour), Resolution: campaigns.ResolutionMinute})
	require.ErrorContains(t, err, "at most a day")
	_, err = b.svc.ReportWith(ctx, c.ID, campaigns.ReportOptions{Resolution: "second"})
	require.ErrorContains(t, err, "not one of minute, hour")
	code, body := b.body(t, "/campaigns/"+itoa(c.ID)+"/report?from=yesterday")
	require.Equal(t, http.StatusUnprocessableEntity, code, body)
	require.Contains(t, body, "RFC 3339")
}

// requireTimeline checks a timeline's opens per unit (minute or hour)
// against the raw events shifted back by age, within [from, to) when given.
func requireTimeline(t *testing.T, b *bundle, campaignID int64, tl []campaigns.TimelinePoint, unit, age string, from, to time.Time) {
	t.Helper()
	got := map[time.Time]int64{}
	for _, p := range tl {
		require.Zero(t, got[p.At], "one point per %s", unit)
		got[p.At] += p.Opens
	}
	var lo, hi *time.Time
	if !from.IsZero() {
		lo, hi = &from, &to
	}
	rows, err := b.pool.Query(context.Background(), `SELECT date_trunc($2, ts, 'UTC'), count(*)
		FROM (SELECT occurred_at - interval '`+age+`' AS ts FROM events WHERE campaign_id = $1 AND type = 'open' AND NOT machine) e
		WHERE ($3::timestamptz IS NULL OR ts >= $3) AND ($4::timestamptz IS NULL OR ts < $4)
		GROUP BY 1`, campaignID, unit, lo, hi)
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
