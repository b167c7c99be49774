package engine

import (
	"context"
	"log/slog"

	"github.com/jackc/pgx/v5"

	"github.com/peykar/peykar/campaigns/contacts"
	"github.com/peykar/peykar/campaigns/deliveries"
	"github.com/peykar/peykar/campaigns/messages"
	"github.com/peykar/peykar/internal/pgerr"
	"github.com/peykar/peykar/tracking"
)

// recordReq is one message's outcome waiting to be recorded.
type recordReq struct {
	d          deliveries.Delivery
	out        deliveries.Outcome
	messageID  int64
	hardBounce bool
}

// record records outcomes of one job with those of concurrent jobs in
// one transaction (groupcommit: the rollup rows of a template's campaign
// are locked once per group rather than once per job) and returns once
// it has committed.
func (w *MessageWorker) record(ctx context.Context, reqs ...*recordReq) error {
	w.recOnce.Do(func() { w.rec.Write = w.flushRetrying })
	return w.rec.Do(ctx, reqs...)
}

// flushAttempts is how many times a group's flush runs when the database
// rolls it back for a deadlock or a serialization failure.
const flushAttempts = 3

// flushRetrying is flush, run again when the database rolled it back for
// a deadlock or a serialization failure (with the API's inserts of
// contacts and messages, say): failing the group would fail every job in
// it, and each would resend after its retry delay.
func (w *MessageWorker) flushRetrying(ctx context.Context, batch []*recordReq) error {
	err := w.flush(ctx, batch)
	for attempt := 1; err != nil && pgerr.Retryable(err) && attempt < flushAttempts; attempt++ {
		w.Send.Logger.InfoContext(ctx, "message outcomes rolled back: recording them again",
			slog.Int("messages", len(batch)), slog.Any("error", err))
		err = w.flush(ctx, batch)
	}
	return err
}

// flush records a group of outcomes in one transaction: the deliveries,
// the messages' statuses, the contacts' sent counts and bounce
// suppressions, and the campaign counters (a delivery counts in
// "deliveries" once it has a final outcome), last so that their rows stay
// locked only for the commit.
func (w *MessageWorker) flush(ctx context.Context, batch []*recordReq) error {
	now := w.Send.Now()
	outs := make([]deliveries.Outcome, len(batch))
	byDelivery := make(map[int64]*recordReq, len(batch))
	for i, r := range batch {
		outs[i] = r.out
		byDelivery[r.d.ID] = r
		w.logOutcome(ctx, r)
	}
	return pgx.BeginFunc(ctx, w.Send.Pool, func(tx pgx.Tx) error {
		finals, err := deliveries.Record(ctx, tx, outs, now)
		if err != nil {
			return err
		}
		counts := countFinals(finals, now)
		for _, f := range finals {
			if _, final := messageStatus[f.Status]; final {
				counts = append(counts, tracking.Count{CampaignID: f.CampaignID, Step: f.Step, Metric: tracking.MetricDeliveries, At: now, N: 1})
			}
		}
		var done []messages.Outcome
		var sent []int64
		for _, r := range batch {
			st, final := messageStatus[r.out.Status]
			if !final {
				continue // retried: still queued
			}
			done = append(done, messages.Outcome{ID: r.messageID, Status: st, Detail: r.out.Detail})
			if r.out.Status == deliveries.Sent {
				sent = append(sent, r.d.ContactID)
			}
		}
		if err := messages.Finish(ctx, tx, done, now); err != nil {
			return err
		}
		if err := contacts.BumpSent(ctx, tx, sent, now); err != nil {
			return err
		}
		for _, r := range batch {
			if r.hardBounce {
				if err := contacts.Suppress(ctx, tx, r.d.ContactID, contacts.StatusBounced); err != nil {
					return err
				}
			}
		}
		return tracking.AddCounts(ctx, tx, counts)
	})
}
