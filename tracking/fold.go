package tracking

import (
	"context"
	"fmt"
	"time"
)

// Rollups are kept per minute. The timeline shows minutes only for the
// first day after launch and only for TimelineMetrics, so other minute
// rows are folded into hour rows once they are FoldAge old: every sum per
// step, link, metric, human/machine and hour stays as it is, so
// rollup_totals and rollup_hours do not change and a report read right
// after a write is exact whether or not folding has run. Folding only
// bounds the rollups rows a minute timeline or the engine's send rate scan.
const (
	// FoldAge keeps the most recent hours per minute (the engine's sending
	// rate reads the last minutes).
	FoldAge = 2 * time.Hour
	// FoldInterval is how often the periodic fold job runs.
	FoldInterval = 10 * time.Minute
)

// MinuteEdge is where a campaign launched at launched turns from minutes
// to hours in the timeline: the first full hour a day after launch.
func MinuteEdge(launched time.Time) time.Time { return ceilHour(launched.Add(24 * time.Hour)) }

// ceilHour rounds t up to the hour (UTC).
func ceilHour(t time.Time) time.Time {
	h := t.UTC().Truncate(time.Hour)
	if h.Before(t) {
		h = h.Add(time.Hour)
	}
	return h
}

// FoldRollups merges campaign id's minute rollup rows into hour rows, in
// one statement: TimelineMetrics' human rows with buckets in [from,
// until), every other row with buckets before until. It returns how many
// minute rows were folded.
func FoldRollups(ctx context.Context, db DBTX, id int64, from, until time.Time) (int64, error) {
	var n int64
	if err := db.QueryRow(ctx, query("fold_rollups"), id, from.UTC(), until.UTC(), TimelineMetrics).Scan(&n); err != nil {
		return 0, fmt.Errorf("fold rollups of campaign %d: %w", id, err)
	}
	return n, nil
}

// FoldCampaign folds the rollups of the campaign launched at launched as
// they should be at now: minutes older than FoldAge, the timeline's human
// minutes only from MinuteEdge on. It returns how many minute rows were
// folded (0 when the campaign is too young to fold anything).
func FoldCampaign(ctx context.Context, db DBTX, id int64, launched, now time.Time) (int64, error) {
	until := now.Add(-FoldAge).UTC().Truncate(time.Hour)
	if !until.After(launched.UTC().Truncate(time.Hour)) {
		return 0, nil
	}
	return FoldRollups(ctx, db, id, MinuteEdge(launched), until)
}
