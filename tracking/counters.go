package tracking

import (
	"context"
	"fmt"
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
	// people rows, the step rollups, the people rollups. People without a
	// row are created with their state (people_new.go); the others are
	// locked and refreshed. Everything after the creation goes in one
	// round trip, in that order.
	ps, created, err := createPeople(ctx, tx, ps, at)
	if err != nil {
		return err
	}
	b := &pgx.Batch{}
	queuePeopleLock(b, ps)
	QueueRollups(b, countDeltas(counts))
	queueCreatedAndRefresh(b, created, ps, at)
	if b.Len() == 0 {
		return nil
	}
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("add counts: %w", err)
	}
	return nil
}

// countDeltas turns counts into rollup deltas.
func countDeltas(counts []Count) []Delta {
	ds := make([]Delta, 0, len(counts))
	for _, c := range counts {
		ds = append(ds, Delta{CampaignID: c.CampaignID, Step: c.Step, LinkIdx: -1, Metric: c.Metric, At: c.At, N: c.N})
	}
	return ds
}
