package tracking

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"
)

// Delivery-state metrics written by the sending engine into the same
// rollups, in the transaction that changes the deliveries, so counters
// always equal the delivery table.
const (
	MetricDeliveries  = "deliveries"   // deliveries created (queued)
	MetricSent        = "sent"         // accepted by the SMTP server
	MetricSendBounced = "send_bounced" // refused for good at send time (5xx)
	MetricFailed      = "failed"       // gave up after temporary failures, or could not render
	MetricSkipped     = "skipped"      // never sent: campaign cancelled, contact suppressed meanwhile
)

// Count is one counter increment.
type Count struct {
	CampaignID int64
	Step       string
	Metric     string
	At         time.Time
	N          int64
	// ContactID, when set on a sent or send_bounced count, names the
	// recipient whose delivery changed, so AddCounts brings their
	// campaign-level people counters up to date (people.go).
	ContactID int64
}

// AddCounts adds counts to the rollups inside tx, and refreshes the
// campaign-level people of counts that name a contact. Increments to the
// same row are merged first and rows are written in key order, so
// concurrent writers never deadlock.
func AddCounts(ctx context.Context, tx pgx.Tx, counts []Count) error {
	var ps []person
	var at time.Time
	for _, c := range counts {
		if c.ContactID != 0 && (c.Metric == MetricSent || c.Metric == MetricSendBounced) {
			ps = append(ps, person{c.CampaignID, c.ContactID})
			if c.At.After(at) {
				at = c.At
			}
		}
	}
	// The same lock order as the tracking writer: deliveries (the caller),
	// people rows, the step rollups, the people rollups.
	if err := sendPeople(ctx, tx, ps, func(b *pgx.Batch) { queuePeopleLock(b, ps) }); err != nil {
		return err
	}
	if err := addCounts(ctx, tx, counts); err != nil {
		return err
	}
	return sendPeople(ctx, tx, ps, func(b *pgx.Batch) { queuePeopleRefresh(b, ps, at) })
}

func addCounts(ctx context.Context, tx pgx.Tx, counts []Count) error {
	type key struct {
		campaign int64
		step     string
		metric   string
		bucket   time.Time
	}
	merged := map[key]int64{}
	for _, c := range counts {
		if c.N != 0 {
			merged[key{c.CampaignID, c.Step, c.Metric, c.At.UTC().Truncate(time.Minute)}] += c.N
		}
	}
	if len(merged) == 0 {
		return nil
	}
	keys := make([]key, 0, len(merged))
	for k := range merged {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		if a.campaign != b.campaign {
			return a.campaign < b.campaign
		}
		if a.step != b.step {
			return a.step < b.step
		}
		if a.metric != b.metric {
			return a.metric < b.metric
		}
		return a.bucket.Before(b.bucket)
	})
	camps, steps, metrics, buckets, ns := make([]int64, len(keys)), make([]string, len(keys)), make([]string, len(keys)), make([]time.Time, len(keys)), make([]int64, len(keys))
	for i, k := range keys {
		camps[i], steps[i], metrics[i], buckets[i], ns[i] = k.campaign, k.step, k.metric, k.bucket, merged[k]
	}
	_, err := tx.Exec(ctx, `INSERT INTO rollups (campaign_id, step, link_idx, metric, bucket, machine, count)
		SELECT c, s, -1, m, b, false, n FROM unnest($1::bigint[], $2::text[], $3::text[], $4::timestamptz[], $5::bigint[]) AS u(c, s, m, b, n)
		ON CONFLICT (campaign_id, step, link_idx, metric, bucket, machine) DO UPDATE SET count = rollups.count + EXCLUDED.count`,
		camps, steps, metrics, buckets, ns)
	if err != nil {
		return fmt.Errorf("add counts: %w", err)
	}
	return nil
}
