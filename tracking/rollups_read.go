package tracking

import (
	"time"

	"github.com/jackc/pgx/v5"
)

// Total is one row of a campaign's rollup totals: a counter summed over
// all time.
type Total struct {
	Step    string
	LinkIdx int
	Metric  string
	Machine bool
	Count   int64
	Value   float64
}

// QueueTotals queues on b the read of campaign id's rollup totals (a row
// per step, link, metric and human/machine: bounded by the campaign's
// shape, not its size); fn gets each row when b is sent.
func QueueTotals(b *pgx.Batch, id int64, fn func(Total)) {
	b.Queue(query("rollup_totals"), id).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var t Total
			if err := rows.Scan(&t.Step, &t.LinkIdx, &t.Metric, &t.Machine, &t.Count, &t.Value); err != nil {
				return err
			}
			fn(t)
		}
		return rows.Err()
	})
}

// TimelineRow is one TimelineMetrics counter (human traffic, summed over
// steps and links) in one interval starting At.
type TimelineRow struct {
	At     time.Time
	Metric string
	Count  int64
	Value  float64
}

// QueueTimeline queues on b the read of campaign id's timeline rows in
// [from, to) (nil: unbounded), in order of time then metric: per hour from
// rollup_hours, or per minute (where not folded) from the rollups when
// minutes is set, in which case from must be set and the caller bounds
// the window. fn gets the rows when b is sent, then done is called once.
func QueueTimeline(b *pgx.Batch, id int64, from, to *time.Time, minutes bool, fn func(TimelineRow), done func()) {
	sql := `SELECT hour, metric, count, value::float8 FROM rollup_hours
		WHERE campaign_id = $1 AND ($2::timestamptz IS NULL OR hour >= $2) AND ($3::timestamptz IS NULL OR hour < $3)
		ORDER BY hour, metric`
	args := []any{id, from, to}
	if minutes {
		sql = `SELECT bucket, metric, sum(count)::bigint, sum(value)::float8 FROM rollups
			WHERE campaign_id = $1 AND bucket >= $2 AND ($3::timestamptz IS NULL OR bucket < $3) AND NOT machine
				AND metric = ANY ($4)
			GROUP BY bucket, metric ORDER BY bucket, metric`
		args = append(args, TimelineMetrics)
	}
	b.Queue(sql, args...).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var r TimelineRow
			if err := rows.Scan(&r.At, &r.Metric, &r.Count, &r.Value); err != nil {
				return err
			}
			fn(r)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		done()
		return nil
	})
}
