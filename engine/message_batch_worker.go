package engine

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/riverqueue/river"
	"github.com/wneessen/go-mail"

	"github.com/peykar/peykar/campaigns/contacts"
	"github.com/peykar/peykar/campaigns/deliveries"
	"github.com/peykar/peykar/campaigns/messages"
	"github.com/peykar/peykar/engine/mailer"
)

// MessageBatchWorker sends the messages the API stored together (one job
// per messages.MaxBatchJob of a group): one claim for all of them, one
// read of their contacts and of their sendability, each rendered through
// the campaign render path, sent over the mailer pool (a few connections
// at once), and their outcomes recorded together with concurrent jobs'
// (MessageWorker's group commit). A retry resends only the messages still
// queued (temporary failures); each delivery counts its own attempts.
type MessageBatchWorker struct {
	river.WorkerDefaults[messages.BatchArgs]
	// Messages is the one-message worker whose campaign cache and
	// outcome recorder the batches share.
	Messages *MessageWorker
}

// NextRetry is MessageWorker's: quick at first (a password reset is
// wanted now).
func (w *MessageBatchWorker) NextRetry(job *river.Job[messages.BatchArgs]) time.Time {
	d := 5 * time.Second << min(job.Attempt-1, 9)
	return w.Messages.Send.Now().Add(min(d, 30*time.Minute))
}

// Work sends the batch's queued messages.
func (w *MessageBatchWorker) Work(ctx context.Context, job *river.Job[messages.BatchArgs]) error {
	send := w.Messages.Send
	byDelivery := make(map[int64]messages.SendArgs, len(job.Args.Messages))
	ids := make([]int64, len(job.Args.Messages))
	for i, a := range job.Args.Messages {
		byDelivery[a.DeliveryID], ids[i] = a, a.DeliveryID
	}
	claimed, err := deliveries.Claim(ctx, send.Pool, job.ID, ids, send.reclaimAfter())
	if err != nil {
		return err
	}
	var reqs []*recordReq
	if len(claimed) > 0 {
		if reqs, err = w.deliverAll(ctx, byDelivery, claimed); err != nil {
			return send.releaseClaims(ctx, job.ID, claimed, err)
		}
		if err := w.Messages.record(ctx, reqs...); err != nil {
			return send.releaseClaims(ctx, job.ID, claimed, err)
		}
	}
	temp := 0
	for _, r := range reqs {
		if r.out.Status == deliveries.Queued {
			temp++
		}
	}
	if temp > 0 {
		return fmt.Errorf("%w: %d of %d messages", errTempFailures, temp, len(ids))
	}
	if len(claimed) < len(ids) {
		// Sent already, or an earlier attempt still holds some: come back
		// when its claims are stale rather than finishing without them.
		if n, err := deliveries.StillClaimed(ctx, send.Pool, job.ID, ids); err != nil {
			return err
		} else if n > 0 {
			return river.JobSnooze(send.reclaimAfter())
		}
	}
	return nil
}

// deliverAll decides, renders and sends the claimed deliveries and
// returns their outcomes to record. After an error (every send of the
// batch has ended) the caller releases them.
func (w *MessageBatchWorker) deliverAll(ctx context.Context, byDelivery map[int64]messages.SendArgs, claimed []deliveries.Delivery) ([]*recordReq, error) {
	send := w.Messages.Send
	contactIDs := make([]int64, len(claimed))
	for i, d := range claimed {
		contactIDs[i] = d.ContactID
	}
	states, err := contacts.SendStates(ctx, send.Pool, contactIDs)
	if err != nil {
		return nil, err
	}
	people, err := contacts.GetProfiles(ctx, send.Pool, contactIDs)
	if err != nil {
		return nil, err
	}
	byID := make(map[int64]contacts.Contact, len(people))
	for _, p := range people {
		byID[p.ID] = p
	}
	reqs := make([]*recordReq, len(claimed))
	var msgs []*mail.Msg
	var sending []*recordReq
	for i, d := range claimed {
		a := byDelivery[d.ID]
		r := &recordReq{d: d, messageID: a.MessageID}
		reqs[i] = r
		st, known := states[d.ContactID]
		p, found := byID[d.ContactID]
		ok, reason := st.Verdict(a.Transactional)
		switch {
		case !known || !found:
			r.out = deliveries.Outcome{ID: d.ID, Status: deliveries.Skipped, Detail: "suppressed: the contact was erased"}
			continue
		case !ok:
			r.out = deliveries.Outcome{ID: d.ID, Status: deliveries.Skipped, Detail: "suppressed: " + reason}
			continue
		}
		msg, out, err := w.Messages.prepare(ctx, a, d, p)
		if err != nil {
			return nil, err
		}
		if msg == nil {
			r.out = out
			continue
		}
		msgs, sending = append(msgs, msg), append(sending, r)
	}
	w.sendAll(ctx, msgs, sending)
	return reqs, nil
}

// batchConns is how many SMTP connections one batch job sends on at once:
// a batch of MaxBatchJob messages goes out in about a quarter of the time
// one connection would take.
const batchConns = 4

// sendAll sends msgs over up to batchConns pooled connections at once and
// sets each one's outcome on its request.
func (w *MessageBatchWorker) sendAll(ctx context.Context, msgs []*mail.Msg, reqs []*recordReq) {
	if len(msgs) == 0 {
		return
	}
	per := (len(msgs) + batchConns - 1) / batchConns
	var wg sync.WaitGroup
	for start := 0; start < len(msgs); start += per {
		end := min(start+per, len(msgs))
		wg.Add(1)
		go func(part []*mail.Msg, rs []*recordReq) {
			defer wg.Done()
			results, err := w.Messages.Send.Mailer.Send(ctx, part)
			for i, r := range rs {
				if err != nil {
					r.out = retryOrFail(r.d, "not sent: "+err.Error())
					continue
				}
				r.out, r.hardBounce = outcomeOf(r.d, results[i])
			}
		}(msgs[start:end], reqs[start:end])
	}
	wg.Wait()
}

// outcomeOf is a delivery's outcome for the mail server's answer, and
// whether it bounced the address for good.
func outcomeOf(d deliveries.Delivery, o mailer.Result) (deliveries.Outcome, bool) {
	switch o.Outcome {
	case mailer.Sent:
		return deliveries.Outcome{ID: d.ID, Status: deliveries.Sent, Detail: o.Detail}, false
	case mailer.PermFail:
		return deliveries.Outcome{ID: d.ID, Status: deliveries.Bounced, Detail: o.Detail}, o.AddressBounce()
	default:
		return retryOrFail(d, o.Detail), false
	}
}

// isCancel reports whether err is the job's context ending.
func isCancel(ctx context.Context, err error) bool {
	return ctx.Err() != nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}
