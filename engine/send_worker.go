package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/wneessen/go-mail"
	"golang.org/x/time/rate"

	"github.com/peykar/peykar/campaigns"
	"github.com/peykar/peykar/campaigns/contacts"
	"github.com/peykar/peykar/tracking"
)

// SendArgs is a batch of deliveries of one campaign to send.
type SendArgs struct {
	CampaignID  int64   `json:"campaign_id"`
	DeliveryIDs []int64 `json:"delivery_ids"`
}

// Kind implements river.JobArgs.
func (SendArgs) Kind() string { return "send" }

// InsertOpts puts sends on their queue. Retries are for temporary failures
// of some of the batch; each delivery counts its own attempts.
func (SendArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueSend, MaxAttempts: maxDeliveryAttempts + 4}
}

// sendChunk is how many messages go out between checks of the campaign's
// status, so that pause and cancel take effect within a chunk's time.
const sendChunk = 25

// statusTTL is how long a campaign's status is trusted before it is read
// again.
const statusTTL = 500 * time.Millisecond

// SendWorker works SendArgs: claim, render, send, record.
type SendWorker struct {
	river.WorkerDefaults[SendArgs]
	Pool   *pgxpool.Pool
	Mailer *Mailer
	Signer *tracking.Signer
	// BaseURL is the public URL tracking links point at.
	BaseURL string
	// BounceDomain, when set, makes the envelope sender a VERP address
	// bounce+{token}@BounceDomain so asynchronous bounces find their delivery.
	BounceDomain string
	Logger       *slog.Logger
	Now          func() time.Time

	templates templateCache
	mu        sync.Mutex
	limiters  map[int64]*rate.Limiter
	statuses  map[int64]statusEntry
}

type statusEntry struct {
	status   string
	throttle float64
	at       time.Time
}

// NextRetry backs temporary failures off: 30 s, 1 min, 2 min, … up to 30 min.
func (w *SendWorker) NextRetry(job *river.Job[SendArgs]) time.Time {
	d := 30 * time.Second << min(job.Attempt-1, 6)
	return time.Now().Add(min(d, 30*time.Minute))
}

func (w *SendWorker) now() time.Time {
	if w.Now != nil {
		return w.Now()
	}
	return time.Now()
}

// errTempFailures makes River retry the job for its temporarily failed
// deliveries; the sent ones are not claimed again.
var errTempFailures = errors.New("some deliveries failed temporarily")

// Work sends the batch in chunks, checking the campaign's status between
// chunks: paused snoozes the job, cancelled skips what is left.
func (w *SendWorker) Work(ctx context.Context, job *river.Job[SendArgs]) error {
	id := job.Args.CampaignID
	ids := job.Args.DeliveryIDs
	var c *campaigns.Campaign
	temp := 0
	chunkSize := sendChunk
	for start := 0; start < len(ids); start += chunkSize {
		status, throttle, err := w.status(ctx, id)
		if err != nil {
			return err
		}
		if throttle > 0 {
			// A throttled campaign sends at most a second's worth between
			// status checks, so pause and cancel stay prompt.
			chunkSize = min(sendChunk, burst(throttle))
			if err := w.throttle(ctx, id, throttle, min(chunkSize, len(ids)-start)); err != nil {
				return err
			}
			if status, _, err = w.status(ctx, id); err != nil {
				return err
			}
		}
		switch status {
		case campaigns.StatusPaused, campaigns.StatusScheduled, campaigns.StatusDraft:
			return river.JobSnooze(2 * time.Second)
		case campaigns.StatusCancelled:
			return pgx.BeginFunc(ctx, w.Pool, func(tx pgx.Tx) error {
				return skipQueued(ctx, tx, id, ids, "campaign cancelled")
			})
		}
		if c == nil {
			got, err := campaigns.Get(ctx, w.Pool, id)
			if err != nil {
				return err
			}
			c = &got
		}
		chunk := ids[start:min(start+chunkSize, len(ids))]
		n, err := w.sendChunk(ctx, job.ID, c, chunk)
		if err != nil {
			return err
		}
		temp += n
	}
	if err := pgx.BeginFunc(ctx, w.Pool, func(tx pgx.Tx) error {
		_, err := finishIfDone(ctx, tx, id)
		return err
	}); err != nil {
		return err
	}
	if temp > 0 {
		return fmt.Errorf("%w: %d of %d", errTempFailures, temp, len(ids))
	}
	return nil
}

// status reads the campaign's status and throttle, cached for statusTTL.
func (w *SendWorker) status(ctx context.Context, id int64) (string, float64, error) {
	w.mu.Lock()
	e, ok := w.statuses[id]
	w.mu.Unlock()
	if ok && time.Since(e.at) < statusTTL {
		return e.status, e.throttle, nil
	}
	status, throttle, err := campaigns.StatusOf(ctx, w.Pool, id)
	if err != nil {
		return "", 0, err
	}
	w.mu.Lock()
	if w.statuses == nil {
		w.statuses = map[int64]statusEntry{}
	}
	w.statuses[id] = statusEntry{status: status, throttle: throttle, at: time.Now()}
	w.mu.Unlock()
	return status, throttle, nil
}

// throttle waits for the campaign's own rate limit (messages per second).
func (w *SendWorker) throttle(ctx context.Context, id int64, perSecond float64, n int) error {
	if perSecond <= 0 {
		return nil
	}
	w.mu.Lock()
	if w.limiters == nil {
		w.limiters = map[int64]*rate.Limiter{}
	}
	l := w.limiters[id]
	if l == nil {
		l = rate.NewLimiter(rate.Limit(perSecond), burst(perSecond))
		w.limiters[id] = l
	} else if l.Limit() != rate.Limit(perSecond) {
		l.SetLimit(rate.Limit(perSecond))
		l.SetBurst(burst(perSecond))
	}
	w.mu.Unlock()
	for n > 0 {
		k := min(n, l.Burst())
		if err := l.WaitN(ctx, k); err != nil {
			return err
		}
		n -= k
	}
	return nil
}

// sendChunk claims, renders, sends and records one chunk. It returns how
// many deliveries failed temporarily (queued again for a retry).
func (w *SendWorker) sendChunk(ctx context.Context, jobID int64, c *campaigns.Campaign, ids []int64) (int, error) {
	claimed, err := claim(ctx, w.Pool, jobID, ids)
	if err != nil || len(claimed) == 0 {
		return 0, err
	}
	contactIDs := make([]int64, len(claimed))
	for i, d := range claimed {
		contactIDs[i] = d.ContactID
	}
	people, err := contacts.GetMany(ctx, w.Pool, contactIDs)
	if err != nil {
		return 0, err
	}
	byID := make(map[int64]contacts.Contact, len(people))
	for _, p := range people {
		byID[p.ID] = p
	}

	results := make([]result, 0, len(claimed))
	msgs := make([]*mail.Msg, 0, len(claimed))
	sending := make([]delivery, 0, len(claimed))
	for _, d := range claimed {
		p, ok := byID[d.ContactID]
		if !ok || p.Status != "active" {
			results = append(results, result{id: d.ID, status: DeliverySkipped, detail: "contact is no longer sendable"})
			continue
		}
		msg, err := w.compose(ctx, c, d, p)
		if err != nil {
			// A message that cannot be rendered will not render next time either.
			results = append(results, result{id: d.ID, status: DeliveryFailed, detail: err.Error()})
			w.Logger.WarnContext(ctx, "cannot render message", slog.Int64("delivery_id", d.ID), slog.Any("error", err))
			continue
		}
		msgs = append(msgs, msg)
		sending = append(sending, d)
	}

	if len(msgs) > 0 {
		if err := w.Mailer.Send(ctx, msgs); err != nil {
			// Nothing was tried: every message is a temporary failure.
			for _, d := range sending {
				results = append(results, retryOrFail(d, "not sent: "+err.Error()))
			}
			msgs = nil
		}
	}
	temp := 0
	var sentContacts []int64
	var hardBounced []int64
	for i, msg := range msgs {
		d := sending[i]
		outcome, detail := Classify(msg)
		switch outcome {
		case Sent:
			results = append(results, result{id: d.ID, status: DeliverySent, detail: "accepted"})
			sentContacts = append(sentContacts, d.ContactID)
		case TempFail:
			results = append(results, retryOrFail(d, detail))
		case PermFail:
			results = append(results, result{id: d.ID, status: DeliveryBounced, detail: detail})
			if isAddressBounce(msg) {
				hardBounced = append(hardBounced, d.ContactID)
			}
		}
	}
	for _, r := range results {
		if r.status == DeliveryQueued {
			temp++
		}
	}
	err = pgx.BeginFunc(context.WithoutCancel(ctx), w.Pool, func(tx pgx.Tx) error {
		if err := recordResults(ctx, tx, results, w.now()); err != nil {
			return err
		}
		if err := contacts.BumpSent(ctx, tx, sentContacts, w.now()); err != nil {
			return err
		}
		for _, cid := range hardBounced {
			if err := contacts.Suppress(ctx, tx, cid, "bounced"); err != nil {
				return err
			}
		}
		return nil
	})
	return temp, err
}

func retryOrFail(d delivery, detail string) result {
	if d.Attempts >= maxDeliveryAttempts {
		return result{id: d.ID, status: DeliveryFailed, detail: fmt.Sprintf("gave up after %d attempts: %s", d.Attempts, detail)}
	}
	return result{id: d.ID, status: DeliveryQueued, detail: detail}
}

// isAddressBounce tells a refusal of the address itself (5.1.x: no such
// user, bad mailbox, bad domain) from other permanent failures (policy,
// content), so only the former suppresses the contact.
func isAddressBounce(msg *mail.Msg) bool {
	var se *mail.SendError
	if !errors.As(msg.SendError(), &se) {
		return false
	}
	if esc := se.EnhancedStatusCode(); esc != "" {
		return strings.HasPrefix(esc, "5.1.")
	}
	switch se.ErrorCode() {
	case 550, 551, 553:
		return true
	}
	return false
}
