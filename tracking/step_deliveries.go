package tracking

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// StepDeliveries are a step's deliveries: Created, and Waiting, those
// without a final outcome yet (queued, waiting out a follow-up's delay,
// held, or being sent).
type StepDeliveries struct {
	Created int64
	Waiting int64
}

// DeliveriesByStep reads campaign id's StepDeliveries per step key from
// the human totals (a bounded read, whatever the campaign's size). Steps
// with no deliveries are absent.
func DeliveriesByStep(ctx context.Context, db RowsQuerier, id int64) (map[string]StepDeliveries, error) {
	rows, err := db.Query(ctx, query("step_deliveries"), id, MetricDeliveries,
		[]string{MetricDeliveries, MetricSent, MetricSendBounced, MetricFailed, MetricSkipped})
	if err != nil {
		return nil, fmt.Errorf("deliveries by step of campaign %d: %w", id, err)
	}
	out := map[string]StepDeliveries{}
	var step string
	var d StepDeliveries
	if _, err := pgx.ForEachRow(rows, []any{&step, &d.Created, &d.Waiting}, func() error {
		out[step] = d
		return nil
	}); err != nil {
		return nil, fmt.Errorf("deliveries by step of campaign %d: %w", id, err)
	}
	return out, nil
}
