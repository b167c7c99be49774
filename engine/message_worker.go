package engine

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/riverqueue/river"
	"github.com/wneessen/go-mail"

	"github.com/peykar/peykar/campaigns"
	"github.com/peykar/peykar/campaigns/contacts"
	"github.com/peykar/peykar/campaigns/deliveries"
	"github.com/peykar/peykar/campaigns/messages"
	"github.com/peykar/peykar/internal/errs"
	"github.com/peykar/peykar/internal/groupcommit"
)

// MessageWorker sends transactional messages (POST /api/v1/messages), one
// job each on their own queue: claim the message's delivery, check the
// contact may receive it, render it with the message's data through the
// campaign render path, send it over the mailer pool and record the
// outcome. Outcomes of concurrent jobs are recorded together (a group
// commit), so the rollup rows of a template's campaign are locked once per
// group rather than once per message.
type MessageWorker struct {
	river.WorkerDefaults[messages.SendArgs]
	// Send is the campaign sender whose render path, mailer, signer and
	// clock messages share.
	Send *SendWorker

	rec       groupcommit.Group[*recordReq]
	recOnce   sync.Once
	mu        sync.Mutex
	campaigns map[int64]cachedCampaign
}

type cachedCampaign struct {
	c  *campaigns.Campaign
	at time.Time
}

// NextRetry backs temporary failures off quickly at first (a password
// reset is wanted now): 5 s, 10 s, 20 s, … up to 30 minutes.
func (w *MessageWorker) NextRetry(job *river.Job[messages.SendArgs]) time.Time {
	d := 5 * time.Second << min(job.Attempt-1, 9)
	return w.Send.Now().Add(min(d, 30*time.Minute))
}

// Work sends one message.
func (w *MessageWorker) Work(ctx context.Context, job *river.Job[messages.SendArgs]) error {
	a := job.Args
	pool := w.Send.Pool
	claimed, err := deliveries.Claim(ctx, pool, job.ID, []int64{a.DeliveryID}, w.Send.staleAfter(ctx, job.AttemptedBy))
	if err != nil {
		return err
	}
	if len(claimed) == 0 {
		// Sent already, or an earlier attempt still holds it.
		if n, err := deliveries.StillClaimed(ctx, pool, job.ID, []int64{a.DeliveryID}); err != nil {
			return err
		} else if n > 0 {
			return river.JobSnooze(w.Send.reclaimAfter())
		}
		return nil
	}
	d := claimed[0]
	out, hardBounce, err := w.deliver(ctx, a, d)
	if err != nil {
		return w.Send.releaseClaims(ctx, job.ID, claimed, err)
	}
	if err := w.record(ctx, &recordReq{d: d, out: out, messageID: a.MessageID, hardBounce: hardBounce}); err != nil {
		return w.Send.releaseClaims(ctx, job.ID, claimed, err)
	}
	if out.Status == deliveries.Queued {
		return fmt.Errorf("message %d: %w: %s", a.MessageID, errTempFailures, out.Detail)
	}
	return nil
}

// deliver decides, renders and sends message a's delivery d, and returns
// its outcome. After an error the caller releases the claim (the job is
// retried).
func (w *MessageWorker) deliver(ctx context.Context, a messages.SendArgs, d deliveries.Delivery) (deliveries.Outcome, bool, error) {
	pool := w.Send.Pool
	ok, reason, err := contacts.Sendability(ctx, pool, d.ContactID, a.Transactional)
	if errs.Is(err, errs.NotFound) {
		ok, reason, err = false, "the contact was erased", nil
	}
	if err != nil {
		return deliveries.Outcome{}, false, err
	}
	if !ok {
		return deliveries.Outcome{ID: d.ID, Status: deliveries.Skipped, Detail: "suppressed: " + reason}, false, nil
	}
	p, err := contacts.Get(ctx, pool, d.ContactID)
	if err != nil {
		return deliveries.Outcome{}, false, err
	}
	msg, out, err := w.prepare(ctx, a, d, p)
	if err != nil || msg == nil {
		return out, false, err
	}
	results, err := w.Send.Mailer.Send(ctx, []*mail.Msg{msg})
	if err != nil {
		return retryOrFail(d, "not sent: "+err.Error()), false, nil
	}
	out, hardBounce := outcomeOf(d, results[0])
	return out, hardBounce, nil
}

// prepare renders message a's delivery d to contact p: the message to
// send, or none and the outcome when it cannot be built (a template that
// fails to render). An error (the job's context ended, the campaign
// unreadable) fails the attempt, which releases the claim.
func (w *MessageWorker) prepare(ctx context.Context, a messages.SendArgs, d deliveries.Delivery, p contacts.Contact) (*mail.Msg, deliveries.Outcome, error) {
	c, err := w.campaign(ctx, a.CampaignID)
	if err != nil {
		return nil, deliveries.Outcome{}, err
	}
	r, err := w.Send.renderData(ctx, c, d, p, a.Data)
	if err != nil {
		if isCancel(ctx, err) {
			return nil, deliveries.Outcome{}, err
		}
		return nil, deliveries.Outcome{ID: d.ID, Status: deliveries.Failed, Detail: err.Error()}, nil
	}
	msg, err := w.Send.messageFor(c, d, p, r, !a.Transactional)
	if err != nil {
		return nil, deliveries.Outcome{ID: d.ID, Status: deliveries.Failed, Detail: err.Error()}, nil
	}
	msg.SetGenHeader("X-Peykar-Message", fmt.Sprint(a.MessageID))
	return msg, deliveries.Outcome{}, nil
}

// campaignTTL is how long a transactional campaign is kept in memory (its
// sender and name change rarely; its status not at all).
const campaignTTL = 10 * time.Second

func (w *MessageWorker) campaign(ctx context.Context, id int64) (*campaigns.Campaign, error) {
	w.mu.Lock()
	e, ok := w.campaigns[id]
	w.mu.Unlock()
	if ok && time.Since(e.at) < campaignTTL {
		return e.c, nil
	}
	c, err := campaigns.Get(ctx, w.Send.Pool, id)
	if err != nil {
		return nil, err
	}
	w.mu.Lock()
	if w.campaigns == nil || len(w.campaigns) > 1024 {
		w.campaigns = map[int64]cachedCampaign{}
	}
	w.campaigns[id] = cachedCampaign{c: &c, at: time.Now()}
	w.mu.Unlock()
	return &c, nil
}

// messageStatus is a message's status for its delivery's final status.
var messageStatus = map[string]string{
	deliveries.Sent:    messages.StatusSent,
	deliveries.Bounced: messages.StatusBounced,
	deliveries.Failed:  messages.StatusFailed,
	deliveries.Skipped: messages.StatusSuppressed,
}

// logOutcome notes a message that did not go.
func (w *MessageWorker) logOutcome(ctx context.Context, r *recordReq) {
	if r.out.Status != deliveries.Sent {
		w.Send.Logger.InfoContext(ctx, "message not sent", slog.Int64("message_id", r.messageID),
			slog.String("status", r.out.Status), slog.String("detail", r.out.Detail))
	}
}

// releaseTimeout bounds the release of a failed attempt's claims; the
// job's own context may have ended already.
const releaseTimeout = 10 * time.Second

// releaseClaims queues again the deliveries a failed attempt of job
// jobID claimed and did not record, and returns cause (the attempt's
// error). Without it the retry, running in this same process, could not
// tell the attempt had ended and would wait for the claims to be stale
// (ReclaimAfter, minutes) before sending a password reset. A release that
// fails leaves the claims to that wait.
func (w *SendWorker) releaseClaims(ctx context.Context, jobID int64, claimed []deliveries.Delivery, cause error) error {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), releaseTimeout)
	defer cancel()
	n, err := deliveries.Release(rctx, w.Pool, jobID, claimed)
	if err != nil {
		w.Logger.WarnContext(ctx, "cannot release a failed attempt's claims", slog.Int64("job_id", jobID),
			slog.Any("error", err), slog.Any("attempt_error", cause))
		return cause
	}
	w.Logger.InfoContext(ctx, "attempt failed: its claims released for the retry", slog.Int64("job_id", jobID),
		slog.Int64("released", n), slog.Any("error", cause))
	return cause
}
