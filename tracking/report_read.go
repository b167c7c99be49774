package tracking

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// RowsQuerier is what the reads of many rows need: a pool, a connection
// or a transaction (any DBTX is one).
type RowsQuerier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// DayMetrics are the metrics DayTotals reads: what the standard report's
// day rows show.
var DayMetrics = []string{MetricSent, MetricSendBounced, MetricBounces, MetricComplaints, MetricOpens, MetricUniqueOpens,
	MetricClicks, MetricUniqueClicks, MetricUnsubscribes, MetricConversions, MetricRevenue}

// DayTotal is one DayMetrics counter (human traffic, summed over the
// campaigns, steps and links read) on one UTC day.
type DayTotal struct {
	Day    string // YYYY-MM-DD, UTC
	Metric string
	Count  int64
	Value  float64
}

// DayTotals returns the human DayMetrics of campaigns ids per UTC day, for
// the minute and hour rows in [from, end).
func DayTotals(ctx context.Context, db RowsQuerier, ids []int64, from, end time.Time) ([]DayTotal, error) {
	rows, err := db.Query(ctx, query("day_totals"), ids, from, end, DayMetrics)
	if err != nil {
		return nil, fmt.Errorf("day totals: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (DayTotal, error) {
		var d DayTotal
		err := row.Scan(&d.Day, &d.Metric, &d.Count, &d.Value)
		return d, err
	})
	if err != nil {
		return nil, fmt.Errorf("day totals: %w", err)
	}
	return out, nil
}

// CampaignCounters are one campaign's counters that anomaly detection
// judges, over all steps.
type CampaignCounters struct {
	CampaignID int64
	// Sent counts the messages sent or refused at send time (human and
	// machine rows alike, as are Bounced and Unsubscribes).
	Sent         int64
	Bounced      int64 // refused at send time or bounced later
	Unsubscribes int64
	UniqueOpens  int64 // human only
	UniqueClicks int64 // human only
}

// EachCampaignCounters calls fn with every campaign's CampaignCounters
// that has rollups, in launch order (creation order for those never
// launched), streaming so memory stays flat in the number of campaigns.
// An error from fn stops the read and is returned.
func EachCampaignCounters(ctx context.Context, db RowsQuerier, fn func(CampaignCounters) error) error {
	rows, err := db.Query(ctx, query("each_campaign_counters"),
		MetricSent, MetricSendBounced, MetricBounces, MetricUnsubscribes, MetricUniqueOpens, MetricUniqueClicks)
	if err != nil {
		return fmt.Errorf("campaign counters: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var c CampaignCounters
		if err := rows.Scan(&c.CampaignID, &c.Sent, &c.Bounced, &c.Unsubscribes, &c.UniqueOpens, &c.UniqueClicks); err != nil {
			return fmt.Errorf("campaign counters: %w", err)
		}
		if err := fn(c); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("campaign counters: %w", err)
	}
	return nil
}

// QueueRevenueTimeline queues on b the read of campaign id's human revenue
// of metrics (per-currency revenue metrics, MetricRevenueIn + currency) at
// link -1 of steps, summed per interval of resolution ("minute" or
// "hour", UTC) in [from, to) (nil: unbounded), in order of time; intervals
// summing to zero are left out. fn gets each interval when b is sent.
// The primary key finds these rows directly: a row per minute or hour
// with a conversion, however many events.
func QueueRevenueTimeline(b *pgx.Batch, id int64, steps, metrics []string, from, to *time.Time, resolution string, fn func(at time.Time, v float64)) {
	b.Queue(query("revenue_timeline"), id, steps, metrics, from, to, resolution).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var at time.Time
			var v float64
			if err := rows.Scan(&at, &v); err != nil {
				return err
			}
			fn(at.UTC(), v)
		}
		return rows.Err()
	})
}
