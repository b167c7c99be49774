package tracking

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// This file is the one writer of the rollup tables. rollups holds counters
// per campaign, step, link, metric, minute (or, once folded, hour) and
// human/machine; rollup_totals holds their sums without the time bucket
// (what a report reads); rollup_hours holds the human sums per hour of the
// TimelineMetrics (what the hourly timeline reads). Every change goes
// through applySQL, which adds one set of deltas to all three tables in one
// statement, so the three are equal by construction in every transaction
// and no trigger is involved (migration 017 dropped them).

// DBTX is what the rollup functions need: a pool, a connection or a
// transaction.
type DBTX interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// MetricConverted counts a delivery once, at its first attributed
// conversion: the per-step converted recipients.
const MetricConverted = "converted"

// TimelineMetrics are the metrics the timeline draws (human rows only,
// summed over steps and links): the only metrics kept in rollup_hours, and
// the only ones kept per minute during a campaign's first day.
var TimelineMetrics = []string{MetricSent, MetricSendBounced, MetricOpens, MetricClicks, MetricConversions, MetricRevenue}

// IsTimelineMetric reports whether metric is one of TimelineMetrics.
func IsTimelineMetric(metric string) bool {
	for _, m := range TimelineMetrics {
		if m == metric {
			return true
		}
	}
	return false
}

// timelineSQL is TimelineMetrics as an SQL list literal (constant names,
// so safe to embed).
func timelineSQL() string {
	q := make([]string, len(TimelineMetrics))
	for i, m := range TimelineMetrics {
		q[i] = "'" + m + "'"
	}
	return "(" + strings.Join(q, ", ") + ")"
}

// Delta is one change to a rollup counter: N added to its count and Value
// to its value, in the minute of At.
type Delta struct {
	CampaignID int64
	Step       string
	LinkIdx    int // -1: not about a link
	Metric     string
	At         time.Time
	Machine    bool
	N          int64
	Value      float64
}

// applySQL returns the statement that adds the rows of src to rollups,
// rollup_totals and rollup_hours. ctes are common table expressions src
// may use ("" for none); src yields columns c (campaign), s (step), l
// (link), m (metric), b (bucket), mc (machine), n (count) and v (value,
// numeric). Each table's rows are written in key order, by every writer
// alike, so concurrent writers never deadlock on them.
func applySQL(ctes, src string) string {
	if ctes != "" {
		ctes += ",\n"
	}
	return `WITH ` + ctes + `rollup_delta AS MATERIALIZED (` + src + `),
	rollup_minutes AS (
		INSERT INTO rollups AS r (campaign_id, step, link_idx, metric, bucket, machine, count, value)
		SELECT c, s, l, m, b, mc, sum(n), sum(v) FROM rollup_delta
		GROUP BY 1, 2, 3, 4, 5, 6 HAVING sum(n) <> 0 OR sum(v) <> 0 ORDER BY 1, 2, 3, 4, 5, 6
		ON CONFLICT (campaign_id, step, link_idx, metric, bucket, machine)
			DO UPDATE SET count = r.count + EXCLUDED.count, value = r.value + EXCLUDED.value
	),
	rollup_total AS (
		INSERT INTO rollup_totals AS r (campaign_id, step, link_idx, metric, machine, count, value)
		SELECT c, s, l, m, mc, sum(n), sum(v) FROM rollup_delta
		GROUP BY 1, 2, 3, 4, 5 HAVING sum(n) <> 0 OR sum(v) <> 0 ORDER BY 1, 2, 3, 4, 5
		ON CONFLICT (campaign_id, step, link_idx, metric, machine)
			DO UPDATE SET count = r.count + EXCLUDED.count, value = r.value + EXCLUDED.value
	)
	INSERT INTO rollup_hours AS r (campaign_id, metric, hour, count, value)
	SELECT c, m, date_trunc('hour', b, 'UTC'), sum(n), sum(v) FROM rollup_delta
	WHERE NOT mc AND m IN ` + timelineSQL() + `
	GROUP BY 1, 2, 3 HAVING sum(n) <> 0 OR sum(v) <> 0 ORDER BY 1, 3, 2
	ON CONFLICT (campaign_id, hour, metric)
		DO UPDATE SET count = r.count + EXCLUDED.count, value = r.value + EXCLUDED.value`
}

// deltasSQL adds deltas passed as parallel arrays ($1 … $8).
var deltasSQL = applySQL("", `SELECT c, s, l, m, date_trunc('minute', b, 'UTC') AS b, mc, n, v::numeric(18, 4) AS v
	FROM unnest($1::bigint[], $2::text[], $3::int[], $4::text[], $5::timestamptz[], $6::bool[], $7::bigint[], $8::float8[])
		AS u(c, s, l, m, b, mc, n, v)`)

// AddRollups adds ds to the rollups and their totals and hours, in db (the
// caller's transaction, so the counters change with the rows they count).
func AddRollups(ctx context.Context, db DBTX, ds []Delta) error {
	b := &pgx.Batch{}
	QueueRollups(b, ds)
	if b.Len() == 0 {
		return nil
	}
	if err := db.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("add rollups: %w", err)
	}
	return nil
}

// QueueRollups queues AddRollups' statement on b (nothing when every delta
// is zero), for callers that send several statements in one round trip.
func QueueRollups(b *pgx.Batch, ds []Delta) {
	ds = nonZero(ds)
	if len(ds) == 0 {
		return
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i].less(ds[j]) })
	n := len(ds)
	camps, idxs, counts := make([]int64, n), make([]int32, n), make([]int64, n)
	steps, metrics := make([]string, n), make([]string, n)
	buckets, machine, values := make([]time.Time, n), make([]bool, n), make([]float64, n)
	for i, d := range ds {
		camps[i], steps[i], idxs[i], metrics[i] = d.CampaignID, d.Step, int32(d.LinkIdx), d.Metric
		buckets[i], machine[i], counts[i], values[i] = d.At.UTC(), d.Machine, d.N, d.Value
	}
	b.Queue(deltasSQL, camps, steps, idxs, metrics, buckets, machine, counts, values)
}

func nonZero(ds []Delta) []Delta {
	out := make([]Delta, 0, len(ds))
	for _, d := range ds {
		if d.N != 0 || d.Value != 0 {
			out = append(out, d)
		}
	}
	return out
}

func (d Delta) less(o Delta) bool {
	switch {
	case d.CampaignID != o.CampaignID:
		return d.CampaignID < o.CampaignID
	case d.Step != o.Step:
		return d.Step < o.Step
	case d.LinkIdx != o.LinkIdx:
		return d.LinkIdx < o.LinkIdx
	case d.Metric != o.Metric:
		return d.Metric < o.Metric
	case !d.At.Equal(o.At):
		return d.At.Before(o.At)
	}
	return !d.Machine && o.Machine
}

// RebuildTotals recomputes campaign id's rollup_totals and rollup_hours
// from its rollups rows. Writers never need it (AddRollups keeps them
// equal); it is for data loaded into rollups by other means (benchmarks,
// restores, tests that age rows).
func RebuildTotals(ctx context.Context, db DBTX, id int64) error {
	b := &pgx.Batch{}
	b.Queue(query("clear_rollup_totals"), id)
	b.Queue(query("clear_rollup_hours"), id)
	b.Queue(query("rebuild_rollup_totals"), id)
	b.Queue(query("rebuild_rollup_hours"), id, TimelineMetrics)
	if err := db.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("rebuild rollup totals of campaign %d: %w", id, err)
	}
	return nil
}
