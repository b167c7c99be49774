package campaigns

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// Rollups are kept per minute. The report shows minutes only for the first
// day after launch and only for a few metrics, so other minute rows are
// folded into hour rows once they are a couple of hours old: the sums per
// step, link, metric and human/machine do not change, and a campaign's
// report then scans far fewer rows.
const (
	// foldAge keeps the most recent hours per minute (the engine's sending
	// rate reads the last minutes).
	foldAge = 2 * time.Hour
	// foldEvery is how often one process folds a campaign's rollups.
	foldEvery = 10 * time.Minute
)

type foldKey struct {
	db DBTX
	id int64
}

// folded remembers when each campaign was last folded by this process.
var folded sync.Map // foldKey → time.Time

// ceilHour rounds t up to the hour (UTC).
func ceilHour(t time.Time) time.Time {
	h := t.UTC().Truncate(time.Hour)
	if h.Before(t) {
		h = h.Add(time.Hour)
	}
	return h
}

// minuteEdge is where a launched campaign's timeline turns from minutes to
// hours: the first full hour a day after launch.
func minuteEdge(launched time.Time) time.Time { return ceilHour(launched.Add(24 * time.Hour)) }

// timelineMetrics are the metrics the timeline draws per minute during
// the first day (human rows only); the others, and machine rows, are only
// ever summed, so their minutes can be folded from launch on.
var timelineMetrics = []string{"sent", "send_bounced", "opens", "clicks", "conversions", "revenue"}

// FoldRollups merges campaign id's minute rollup rows into rows at the
// start of their UTC hour, in one statement: the timeline's metrics with
// buckets in [from, until), the other metrics with buckets before until.
// Machine rows fold like the other metrics. It returns how many minute
// rows were folded.
func FoldRollups(ctx context.Context, db DBTX, id int64, from, until time.Time) (int64, error) {
	// Folding keeps every sum per hour, so the totals and hours that the
	// rollups' triggers maintain (migration 013) stay as they are: the
	// transaction setting peykar.rollup_fold tells the triggers to skip
	// this statement, and is turned off again for a caller's transaction.
	var folded int64
	b := &pgx.Batch{}
	b.Queue(`SELECT set_config('peykar.rollup_fold', 'on', true)`)
	b.Queue(`WITH moved AS (
			DELETE FROM rollups WHERE campaign_id = $1 AND bucket < $3
				AND (bucket >= $2 OR metric <> ALL ($4) OR machine)
				AND bucket <> date_trunc('hour', bucket, 'UTC')
			RETURNING step, link_idx, metric, date_trunc('hour', bucket, 'UTC') AS hour, machine, count, value
		), merged AS (
			INSERT INTO rollups AS r (campaign_id, step, link_idx, metric, bucket, machine, count, value)
			SELECT $1, step, link_idx, metric, hour, machine, sum(count), sum(value) FROM moved
			GROUP BY step, link_idx, metric, hour, machine
			ORDER BY step, link_idx, metric, hour, machine
			ON CONFLICT (campaign_id, step, link_idx, metric, bucket, machine)
				DO UPDATE SET count = r.count + EXCLUDED.count, value = r.value + EXCLUDED.value
		)
		SELECT count(*) FROM moved`, id, from, until, timelineMetrics).QueryRow(func(row pgx.Row) error { return row.Scan(&folded) })
	b.Queue(`SELECT set_config('peykar.rollup_fold', 'off', true)`)
	if err := db.SendBatch(ctx, b).Close(); err != nil {
		return 0, fmt.Errorf("fold rollups of campaign %d: %w", id, err)
	}
	return folded, nil
}

// maybeFold folds c's rollups up to foldAge ago (the timeline's metrics
// only from a day after launch), at most once per foldEvery per process. A failure (a deadlock with a
// concurrent late write, say) is logged: the report stays exact either way.
func (s *Service) maybeFold(ctx context.Context, c Campaign) {
	if c.LaunchedAt == nil {
		return
	}
	now := s.now()
	from := minuteEdge(*c.LaunchedAt)
	until := now.Add(-foldAge).UTC().Truncate(time.Hour)
	if !until.After(c.LaunchedAt.UTC().Truncate(time.Hour)) {
		return
	}
	k := foldKey{s.Pool, c.ID}
	if last, ok := folded.Load(k); ok && now.Sub(last.(time.Time)) < foldEvery {
		return
	}
	folded.Store(k, now)
	if _, err := FoldRollups(ctx, s.Pool, c.ID, from, until); err != nil && s.Logger != nil {
		s.Logger.WarnContext(ctx, "fold rollups", slog.Int64("campaign_id", c.ID), slog.Any("error", err))
	}
}
