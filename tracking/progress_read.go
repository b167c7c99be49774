package tracking

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// FirstStepRemaining returns how many deliveries of campaign id's first
// step have no final outcome yet (created minus sent, refused, failed and
// skipped), from the human rollups. Call it in the transaction that holds
// the campaign row lock so it sees every transaction committed before.
func FirstStepRemaining(ctx context.Context, db Querier, id int64) (int64, error) {
	var remaining int64
	err := db.QueryRow(ctx, query("first_step_remaining"),
		id, MetricDeliveries, []string{MetricDeliveries, MetricSent, MetricSendBounced, MetricFailed, MetricSkipped}).Scan(&remaining)
	if err != nil {
		return 0, fmt.Errorf("first step remaining of campaign %d: %w", id, err)
	}
	return remaining, nil
}

// MetricCount is one metric's human count (and value) summed over the
// steps and links read.
type MetricCount struct {
	Metric string
	Count  int64
	Value  float64
}

// OutcomeMetrics are the delivery outcomes QueueOutcomeTotals reads.
var OutcomeMetrics = []string{MetricDeliveries, MetricSent, MetricSendBounced, MetricBounces, MetricFailed, MetricSkipped}

// QueueOutcomeTotals queues on b the read of campaign id's human totals of
// OutcomeMetrics over all steps (a row per metric with a count); fn gets
// each row when b is sent.
func QueueOutcomeTotals(b *pgx.Batch, id int64, fn func(MetricCount)) {
	b.Queue(query("outcome_totals"), id, OutcomeMetrics).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var m MetricCount
			if err := rows.Scan(&m.Metric, &m.Count); err != nil {
				return err
			}
			fn(m)
		}
		return rows.Err()
	})
}

// QueueSendsPerMinute queues on b the read of campaign id's sends (sent or
// refused at send time: both answered) per minute bucket from since on,
// over the campaign's steps; fn gets each bucket (in UTC) and its count
// when b is sent.
func QueueSendsPerMinute(b *pgx.Batch, id int64, since time.Time, fn func(at time.Time, n int64)) {
	b.Queue(query("sends_per_minute"), id, since, []string{MetricSent, MetricSendBounced}).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var at time.Time
			var n int64
			if err := rows.Scan(&at, &n); err != nil {
				return err
			}
			fn(at.UTC(), n)
		}
		return rows.Err()
	})
}
