package engine

import (
	"context"
	"sync"

	"github.com/jackc/pgx/v5"

	"github.com/peykar/peykar/campaigns/contacts"
	"github.com/peykar/peykar/campaigns/deliveries"
	"github.com/peykar/peykar/campaigns/messages"
	"github.com/peykar/peykar/tracking"
)

// recordReq is one message's outcome waiting to be recorded.
type recordReq struct {
	d          deliveries.Delivery
	out        deliveries.Outcome
	messageID  int64
	hardBounce bool
	done       chan error
	lead       chan struct{}
}

// groupRecorder records the outcomes of concurrent jobs in shared
// transactions (a group commit without timers): a request arriving while
// no one records becomes the leader and records everything pending,
// itself included; requests arriving meanwhile wait, and when the leader's
// transaction ends the first of them leads the next group. Each request
// returns once the transaction holding it has ended, with its result.
type groupRecorder struct {
	mu       sync.Mutex
	pending  []*recordReq
	flushing bool
}

// record adds r to the next group and waits for it to be recorded by
// flush.
func (g *groupRecorder) record(ctx context.Context, flush func(context.Context, []*recordReq) error, r *recordReq) error {
	r.done, r.lead = make(chan error, 1), make(chan struct{}, 1)
	g.mu.Lock()
	g.pending = append(g.pending, r)
	if g.flushing {
		g.mu.Unlock()
		select {
		case err := <-r.done:
			return err
		case <-r.lead:
			g.mu.Lock()
		}
	}
	g.flushing = true
	batch := g.pending
	g.pending = nil
	g.mu.Unlock()

	// The group's transaction must end whatever happens to this job's
	// context: the others wait for it.
	err := flush(context.WithoutCancel(ctx), batch)
	for _, b := range batch {
		b.done <- err
	}
	g.mu.Lock()
	if len(g.pending) > 0 {
		g.pending[0].lead <- struct{}{} // hand over: it records the next group
	} else {
		g.flushing = false
	}
	g.mu.Unlock()
	return <-r.done
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
