package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"golang.org/x/time/rate"

	"github.com/peykar/peykar/campaigns"
	"github.com/peykar/peykar/campaigns/contacts"
	"github.com/peykar/peykar/campaigns/deliveries"
	"github.com/peykar/peykar/engine/mailer"
	"github.com/peykar/peykar/internal/baseservice"
	"github.com/peykar/peykar/templates"
	"github.com/peykar/peykar/tracking"
)

// SendArgs is a batch of deliveries of one campaign to send.
//
// It is stored as kind send_packed, its ids packed in one string (ids, with
// their count in n; send_ids.go says why). Older processes do not register
// that kind, so River retries such a job until a newer process takes it,
// instead of an older one reading no ids and completing it with its
// recipients left queued; one discarded meanwhile is requeued by the sweep
// (requeue_orphaned reads both formats). Jobs of the older kind send, with
// a delivery_ids array, are still worked: the kind is an alias.
type SendArgs struct {
	CampaignID  int64
	DeliveryIDs []int64
	// Rule and Step name the follow-up rule that scheduled a send and the
	// step it sends (empty for the launch's sends), so the journey map can
	// count the sends waiting out a rule's delay (FollowUpsWaiting).
	Rule string
	Step string
}

// sendArgsJSON is SendArgs as stored: ids and n in send_packed jobs,
// delivery_ids in jobs an older process enqueued as send.
type sendArgsJSON struct {
	CampaignID  int64   `json:"campaign_id"`
	IDs         string  `json:"ids"`
	N           int     `json:"n"`
	DeliveryIDs []int64 `json:"delivery_ids,omitempty"`
	Rule        string  `json:"rule,omitempty"`
	Step        string  `json:"step,omitempty"`
}

// MarshalJSON stores the ids packed.
func (a SendArgs) MarshalJSON() ([]byte, error) {
	return json.Marshal(sendArgsJSON{CampaignID: a.CampaignID, IDs: packIDs(a.DeliveryIDs), N: len(a.DeliveryIDs), Rule: a.Rule, Step: a.Step})
}

// UnmarshalJSON reads either format.
func (a *SendArgs) UnmarshalJSON(b []byte) error {
	var j sendArgsJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	ids := j.DeliveryIDs
	if j.IDs != "" || j.N != 0 {
		var err error
		if ids, err = unpackIDs(j.IDs, j.N); err != nil {
			return err
		}
	}
	*a = SendArgs{CampaignID: j.CampaignID, DeliveryIDs: ids, Rule: j.Rule, Step: j.Step}
	return nil
}

// Kind implements river.JobArgs.
func (SendArgs) Kind() string { return "send_packed" }

// KindAliases implements river.JobArgsWithKindAliases: jobs an older process
// enqueued (kind send, ids as an array) are worked too.
func (SendArgs) KindAliases() []string { return []string{"send"} }

// InsertOpts puts sends on their queue. Retries are for temporary failures
// of some of the batch; each delivery counts its own attempts.
func (SendArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueSend, MaxAttempts: maxDeliveryAttempts + 4}
}

// Chunks are how many messages go out between checks of the campaign's
// status, so that pause and cancel take effect within a chunk's time. Each
// chunk costs a claim and a contact read whatever its size, so chunks are as
// large as chunkTime allows: sized from the time per message of recent
// chunks, from sendChunk (when nothing is known yet) up to sendChunkMax.
// Outcomes go to the process's group commit every sendSlice messages
// (outcome_commit.go), which bounds what a crash can duplicate.
const (
	sendChunk    = 50
	sendChunkMax = 200
	chunkTime    = time.Second
)

// statusTTL is how long a campaign's status is trusted before it is read
// again.
const statusTTL = 500 * time.Millisecond

// SendWorker works SendArgs: claim, render, send, record.
type SendWorker struct {
	river.WorkerDefaults[SendArgs]
	Pool   *pgxpool.Pool
	Mailer Mailer
	Signer *tracking.Signer
	// BaseURL is the public URL tracking links point at.
	BaseURL string
	// BounceDomain, when set, makes the envelope sender a VERP address
	// bounce+{token}@BounceDomain so asynchronous bounces find their delivery.
	BounceDomain string
	// Base is the worker's logger and clock: the clock dates sends,
	// schedules follow-ups and retries and places the frequency cap's
	// window.
	baseservice.Base
	// Webhook posts the webhook channel's messages.
	Webhook Webhook
	// FrequencyCap is the operator's default cap (PEYKAR_FREQUENCY_CAP)
	// for campaigns without their own; nil: none.
	FrequencyCap *campaigns.FrequencyCap
	// ReclaimAfter is how old a claim of an earlier attempt of the same job
	// must be before a retry takes it over (default 3 minutes; set it to
	// River's RescueStuckJobsAfter).
	ReclaimAfter time.Duration

	templates templateCache
	variants  variantCache
	senders   senderCache
	links     linkCache
	commits   outcomeCommitter
	fold      sendFold
	mu        sync.Mutex
	limiters  map[int64]*rate.Limiter
	statuses  map[int64]statusEntry
	// perMessage is a moving average of a chunk's wall time per message
	// (nanoseconds; 0 until the first chunk).
	perMessage atomic.Int64
}

// chunkSize is how many messages the next chunk may hold to take about
// chunkTime.
func (w *SendWorker) chunkSize() int {
	per := w.perMessage.Load()
	if per <= 0 {
		return sendChunk
	}
	return max(1, min(sendChunkMax, int(int64(chunkTime)/per)))
}

// observeChunk folds a chunk's time into the per-message average.
func (w *SendWorker) observeChunk(n int, took time.Duration) {
	if n <= 0 {
		return
	}
	per := int64(took) / int64(n)
	if old := w.perMessage.Load(); old > 0 {
		per = (3*old + per) / 4
	}
	w.perMessage.Store(max(per, 1))
}

type statusEntry struct {
	status   string
	throttle float64
	at       time.Time
}

func (w *SendWorker) reclaimAfter() time.Duration {
	if w.ReclaimAfter > 0 {
		return w.ReclaimAfter
	}
	return 3 * time.Minute
}

// NextRetry backs temporary failures off: 30 s, 1 min, 2 min, … up to 30 min.
func (w *SendWorker) NextRetry(job *river.Job[SendArgs]) time.Time {
	d := 30 * time.Second << min(job.Attempt-1, 6)
	return w.Now().Add(min(d, 30*time.Minute))
}

// errTempFailures makes River retry the job for its temporarily failed
// deliveries; the sent ones are not claimed again.
var errTempFailures = errors.New("some deliveries failed temporarily")

// Work sends the batch in chunks, checking the campaign's status between
// chunks: paused snoozes the job, cancelled skips what is left.
func (w *SendWorker) Work(ctx context.Context, job *river.Job[SendArgs]) (err error) {
	// The job's outcomes are committed before it ends, whatever ends it.
	var waits commitWaits
	defer func() {
		if werr := waits.wait(); werr != nil && err == nil {
			err = werr
		}
	}()
	id := job.Args.CampaignID
	ids := job.Args.DeliveryIDs
	var c *campaigns.Campaign
	temp := 0
	var holdFor time.Duration
	claimedAll := 0
	stale := w.reclaimFor(ctx, job.JobRow)
	for start := 0; start < len(ids); {
		chunkSize := w.chunkSize()
		status, throttle, err := w.status(ctx, id)
		if err != nil {
			return err
		}
		if throttle > 0 {
			// A throttled campaign sends at most a second's worth between
			// status checks, so pause and cancel stay prompt.
			chunkSize = min(chunkSize, mailer.Burst(throttle))
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
				return skipQueued(ctx, tx, id, ids, "campaign cancelled", w.Now())
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
		start += len(chunk)
		began := time.Now()
		n, hold, got, err := w.sendChunk(ctx, job.ID, stale.at(), c, chunk, &waits)
		if err != nil {
			return err
		}
		if throttle <= 0 {
			w.observeChunk(got, time.Since(began))
		}
		claimedAll += got
		temp += n
		if hold > 0 && (holdFor == 0 || hold < holdFor) {
			holdFor = hold
		}
	}
	if err := waits.wait(); err != nil {
		return err
	}
	if holdFor > 0 && temp == 0 {
		// Follow-ups held back by the frequency cap: come back when the
		// first of them may go.
		return river.JobSnooze(holdFor)
	}
	if temp == 0 && holdFor == 0 && claimedAll < len(ids) {
		// An earlier attempt of this job (crashed, or rescued while slow)
		// may still hold some of the batch: come back when its claims are
		// stale rather than finishing without them.
		n, err := deliveries.StillClaimed(ctx, w.Pool, job.ID, ids)
		if err != nil {
			return err
		}
		if n > 0 {
			return river.JobSnooze(w.reclaimAfter())
		}
	}
	// A triggered campaign does not finish when its sends drain: it skips
	// the campaign row lock that orders the finish decision, which would
	// otherwise serialise every entry's send (and the entries themselves,
	// whose foreign key waits on that lock).
	if c == nil || !c.Triggered() {
		if err := w.finishIfDrained(ctx, id); err != nil {
			return err
		}
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
		l = rate.NewLimiter(rate.Limit(perSecond), mailer.Burst(perSecond))
		w.limiters[id] = l
	} else if l.Limit() != rate.Limit(perSecond) {
		l.SetLimit(rate.Limit(perSecond))
		l.SetBurst(mailer.Burst(perSecond))
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
// many deliveries failed temporarily (queued again for a retry) and how long
// the first of the deliveries held back by the frequency cap must wait.
func (w *SendWorker) sendChunk(ctx context.Context, jobID int64, stale time.Duration, c *campaigns.Campaign, ids []int64, waits *commitWaits) (temp int, hold time.Duration, claimedN int, err error) {
	if err := checkLease(ctx); err != nil {
		return 0, 0, 0, err
	}
	claimed, err := deliveries.Claim(ctx, w.Pool, jobID, ids, stale)
	if err != nil || len(claimed) == 0 {
		return 0, 0, 0, err
	}
	contactIDs := make([]int64, len(claimed))
	for i, d := range claimed {
		contactIDs[i] = d.ContactID
	}
	people, err := contacts.GetProfiles(ctx, w.Pool, contactIDs)
	if err != nil {
		return 0, 0, 0, err
	}
	byID := make(map[int64]contacts.Contact, len(people))
	for _, p := range people {
		byID[p.ID] = p
	}

	// Render and send in groups of sendChunk, so only a group's messages
	// are in memory at once; outcomes go to the group commit every
	// sendSlice messages, so a crash can duplicate only those sent and not
	// yet committed. Deliveries of later
	// groups stay claimed if this fails, for the job's retry to reclaim
	// once stale.
	for g := 0; g < len(claimed); g += sendChunk {
		n, h, err := w.sendGroup(ctx, c, claimed[g:min(g+sendChunk, len(claimed))], byID, waits)
		temp += n
		if h > 0 && (hold == 0 || h < hold) {
			hold = h
		}
		if err != nil {
			return temp, hold, len(claimed), err
		}
	}
	return temp, hold, len(claimed), nil
}

// sendGroup renders a group of claimed deliveries and sends them in
// slices of sendSlice, handing each slice's outcomes (the first with those
// of the deliveries that will not be sent) to the group commit; waits
// gets the commits to wait for.
func (w *SendWorker) sendGroup(ctx context.Context, c *campaigns.Campaign, group []deliveries.Delivery, byID map[int64]contacts.Contact, waits *commitWaits) (temp int, hold time.Duration, err error) {
	ready, results, hold, err := w.prepareGroup(ctx, c, group, byID)
	if err != nil {
		return 0, 0, err
	}
	var client *river.Client[pgx.Tx]
	if len(c.Rules) > 0 {
		client = river.ClientFromContext[pgx.Tx](ctx)
	}
	for i := 0; i == 0 || i < len(ready); i += sendSlice {
		part := ready[i:min(i+sendSlice, len(ready))]
		if err := w.reserve(ctx, len(part)); err != nil {
			return temp, hold, err // the rest stay claimed for the job's retry
		}
		var hardBounced []int64
		out := results
		results = nil
		if c.Channel == campaigns.ChannelWebhook {
			out = w.sendWebhooks(ctx, c, part, out)
		} else {
			out, hardBounced = w.sendEmails(ctx, c, part, out)
		}
		for _, r := range out {
			if r.Status == deliveries.Queued {
				temp++
			}
		}
		out, hardBounced = trustedOutcomes(ctx, out, hardBounced)
		if len(out) > 0 {
			*waits = append(*waits, w.submit(ctx, &outcomeBatch{client: client, c: c, group: group, results: out, hardBounced: hardBounced}, len(part)))
		} else {
			w.release(len(part))
		}
	}
	return temp, hold, nil
}

// prepareGroup renders a group of claimed deliveries; results has the
// outcomes of those that will not be sent (contact no longer sendable, held
// by the frequency cap, send time or quiet hours, unrenderable).
func (w *SendWorker) prepareGroup(ctx context.Context, c *campaigns.Campaign, group []deliveries.Delivery, byID map[int64]contacts.Contact) (ready []rendered, results []deliveries.Outcome, hold time.Duration, err error) {
	ready = make([]rendered, 0, len(group))
	results = make([]deliveries.Outcome, 0, len(group))
	members, err := w.topicMembers(ctx, c, group)
	if err != nil {
		return nil, results, hold, err
	}
	ids := make([]int64, len(group))
	for i, d := range group {
		ids[i] = d.ContactID
	}
	sendable, err := w.sendableIn(ctx, c, ids)
	if err != nil {
		return nil, results, hold, err
	}
	gates, err := w.timingGates(ctx, c, group, byID)
	if err != nil {
		return nil, results, hold, err
	}
	for _, d := range group {
		if d.Exited {
			results = append(results, deliveries.Outcome{ID: d.ID, Status: deliveries.Skipped, Detail: "contact exited the campaign"})
			continue
		}
		if d.Round > 0 {
			// A triggered campaign's goal exit: checked before each step goes.
			reason, err := goalExit(ctx, w.Pool, c, d.ContactID, w.Now())
			if err != nil {
				return nil, results, hold, err
			}
			if reason != "" {
				results = append(results, deliveries.Outcome{ID: d.ID, Status: deliveries.Skipped, Detail: "contact exited the campaign: " + reason})
				continue
			}
		}
		p, ok := byID[d.ContactID]
		if !ok || !sendable[d.ContactID] {
			results = append(results, deliveries.Outcome{ID: d.ID, Status: deliveries.Skipped, Detail: skipChannelDetail})
			continue
		}
		if members != nil && !members[d.ContactID] {
			results = append(results, deliveries.Outcome{ID: d.ID, Status: deliveries.Skipped, Detail: skipUnsubscribedDetail})
			continue
		}
		if g := gates[d.ID]; g.skip {
			results = append(results, deliveries.Outcome{ID: d.ID, Status: deliveries.Skipped, Detail: g.detail})
			continue
		} else if g.wait > 0 {
			results = append(results, deliveries.Outcome{ID: d.ID, Status: deliveries.Held, Detail: g.detail})
			if hold == 0 || g.wait < hold {
				hold = g.wait
			}
			continue
		}
		r, err := w.render(ctx, c, d, p)
		if err != nil && (ctx.Err() != nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
			// Stopped, not failed: the deliveries stay claimed for the job's retry.
			return nil, results, hold, err
		}
		if err != nil {
			// A message that cannot be rendered (a missing attribute, a
			// render budget passed) will not render next time either: it
			// fails for good and the job goes on.
			results = append(results, deliveries.Outcome{ID: d.ID, Status: deliveries.Failed, Detail: err.Error()})
			w.Logger.WarnContext(ctx, "cannot render message", slog.Int64("delivery_id", d.ID), slog.Any("error", err))
			continue
		}
		ready = append(ready, rendered{d: d, p: p, r: r})
	}
	return ready, results, hold, nil
}

// rendered is a delivery ready to go out.
type rendered struct {
	d deliveries.Delivery
	p contacts.Contact
	r *templates.Rendered
}

// sendEmails sends the rendered messages over one pooled SMTP connection and
// classifies each outcome.
func (w *SendWorker) sendEmails(ctx context.Context, c *campaigns.Campaign, ready []rendered, results []deliveries.Outcome) (_ []deliveries.Outcome, hardBounced []int64) {
	msgs := make([]mailer.Message, 0, len(ready))
	sending := make([]deliveries.Delivery, 0, len(ready))
	var releases []func()
	defer func() {
		for _, release := range releases {
			release()
		}
	}()
	for _, x := range ready {
		// The message's MIME form written here (message_mime.go), or by
		// go-mail when it is not of the shape that writes.
		if b, release, ok := w.builtMessage(withVariantSender(c, x.d), x.d, x.p, x.r, true); ok {
			msgs = append(msgs, b)
			releases = append(releases, release)
			sending = append(sending, x.d)
			continue
		}
		msg, err := w.message(c, x.d, x.p, x.r)
		if err != nil {
			results = append(results, deliveries.Outcome{ID: x.d.ID, Status: deliveries.Failed, Detail: err.Error()})
			continue
		}
		msgs = append(msgs, msg)
		sending = append(sending, x.d)
	}
	if len(msgs) == 0 {
		return results, nil
	}
	// The lease is checked again once the mailer holds a connection: the
	// one reserve checked may have lapsed while this slice waited for room
	// or a connection (a freeze there), and the slice must not reach the
	// server if the process was presumed dead meanwhile.
	outcomes, err := w.Mailer.SendMessages(mailer.WithWriteCheck(ctx, checkLease), msgs)
	if err != nil {
		// Nothing was tried: every message is a temporary failure.
		for _, d := range sending {
			results = append(results, retryOrFail(d, "not sent: "+err.Error()))
		}
		return results, nil
	}
	for i, o := range outcomes {
		d := sending[i]
		switch o.Outcome {
		case mailer.Sent:
			results = append(results, deliveries.Outcome{ID: d.ID, Status: deliveries.Sent, Detail: o.Detail})
		case mailer.TempFail:
			results = append(results, retryOrFail(d, o.Detail))
		case mailer.PermFail:
			results = append(results, deliveries.Outcome{ID: d.ID, Status: deliveries.Bounced, Detail: o.Detail})
			if o.AddressBounce() {
				hardBounced = append(hardBounced, d.ContactID)
			}
		}
	}
	return results, hardBounced
}

// sendWebhooks posts each rendered message to the campaign's webhook: the
// text body when it is a JSON document (a template for an SMS gateway's
// API), otherwise a JSON envelope with the recipient and the rendered parts.
func (w *SendWorker) sendWebhooks(ctx context.Context, c *campaigns.Campaign, ready []rendered, results []deliveries.Outcome) []deliveries.Outcome {
	hook := c.Settings.Webhook
	for i, x := range ready {
		// Each post waits on the receiver, so the lease reserve checked
		// may lapse mid-slice (a freeze, a slow gateway): a process
		// presumed dead meanwhile posts none of the rest, which another
		// process has taken over, as the mailer writes nothing then.
		if err := checkLease(ctx); err != nil {
			for _, y := range ready[i:] {
				results = append(results, retryOrFail(y.d, "not sent: "+err.Error()))
			}
			return results
		}
		body := []byte(strings.TrimSpace(x.r.Text))
		if !json.Valid(body) {
			body, _ = json.Marshal(map[string]any{
				"delivery_id": x.d.ID, "campaign_id": c.ID, "step": x.d.Step,
				"to":      map[string]any{"id": x.p.ID, "email": x.p.Email, "name": x.p.Name, "attributes": x.p.Attributes},
				"subject": x.r.Subject, "text": x.r.Text, "html": x.r.HTML,
				"channel": c.ChannelName(), "preferences_url": w.Signer.PreferencesURL(w.BaseURL, x.d.ID),
			})
		}
		err := w.Webhook.Post(ctx, hook.URL, hook.Secret, body, "delivery-"+strconv.FormatInt(x.d.ID, 10))
		var we *WebhookError
		switch {
		case err == nil:
			results = append(results, deliveries.Outcome{ID: x.d.ID, Status: deliveries.Sent, Detail: "accepted"})
		case errors.As(err, &we) && !we.Temporary:
			results = append(results, deliveries.Outcome{ID: x.d.ID, Status: deliveries.Failed, Detail: err.Error()})
		default:
			results = append(results, retryOrFail(x.d, err.Error()))
		}
	}
	return results
}

func retryOrFail(d deliveries.Delivery, detail string) deliveries.Outcome {
	if d.Attempts >= maxDeliveryAttempts {
		return deliveries.Outcome{ID: d.ID, Status: deliveries.Failed, Detail: fmt.Sprintf("gave up after %d attempts: %s", d.Attempts, detail)}
	}
	return deliveries.Outcome{ID: d.ID, Status: deliveries.Queued, Detail: detail}
}

// enqueueFollowUps starts what a send triggers, in the transaction that
// records it: a rules job per sent delivery when a "sent" rule covers its
// step, a rules job per delivery refused for good at send time (5xx) when a
// "bounce" rule covers its step (asynchronous bounces come through
// tracking), and the timers of no_open/no_click/no_conversion rules watching
// this step. A job evaluates every rule of its event type, so one job per
// (delivery, event) is enough.
func enqueueFollowUps(ctx context.Context, tx pgx.Tx, client *river.Client[pgx.Tx], c *campaigns.Campaign, claimed []deliveries.Delivery, results []deliveries.Outcome, now time.Time) error {
	if len(c.Rules) == 0 {
		return nil
	}
	stepOf := make(map[int64]string, len(claimed))
	for _, d := range claimed {
		stepOf[d.ID] = d.Step
	}
	// covers reports whether an event rule of type on applies to step.
	covers := func(on, step string) bool {
		for _, r := range c.Rules {
			if r.On == on && (r.Step == "" || r.Step == step) {
				return true
			}
		}
		return false
	}
	var params []river.InsertManyParams
	for _, res := range results {
		var on string
		switch res.Status {
		case deliveries.Sent:
			on = "sent"
		case deliveries.Bounced:
			on = "bounce"
		default:
			continue
		}
		step := stepOf[res.ID]
		if !covers(on, step) {
			continue
		}
		d := findDelivery(claimed, res.ID)
		params = append(params, river.InsertManyParams{Args: tracking.RuleEventArgs{
			DeliveryID: d.ID, CampaignID: c.ID, ContactID: d.ContactID, Step: step, Type: on, At: now}})
	}
	for _, r := range c.Rules {
		if !isTimer(r.On) {
			continue
		}
		watch := r.Step
		if watch == "" && len(c.Steps) > 0 {
			watch = c.Steps[0].Key
		}
		var ids []int64
		for _, res := range results {
			if res.Status == deliveries.Sent && stepOf[res.ID] == watch {
				ids = append(ids, res.ID)
			}
		}
		if len(ids) > 0 {
			after, _ := time.ParseDuration(r.After) // validated on save
			params = append(params, river.InsertManyParams{
				Args:       TimerArgs{CampaignID: c.ID, Rule: r.Name, DeliveryIDs: ids},
				InsertOpts: &river.InsertOpts{ScheduledAt: now.Add(after)},
			})
		}
	}
	if len(params) == 0 {
		return nil
	}
	if _, err := client.InsertManyFastTx(ctx, tx, params); err != nil {
		return fmt.Errorf("enqueue follow-ups: %w", err)
	}
	return nil
}

func findDelivery(ds []deliveries.Delivery, id int64) deliveries.Delivery {
	for _, d := range ds {
		if d.ID == id {
			return d
		}
	}
	return deliveries.Delivery{ID: id}
}

// finishIfDrained finishes campaign id at a send job's end if its sends
// are done. Only a campaign whose first-step counters show nothing left
// waits for the campaign row lock that orders the finish decision: the
// step counters are the send fold's (send_fold.go), so they lag this
// job's outcomes until a fold takes them, and a fold decides the finish
// itself after its commit. Without the look first, every send job's end
// queued on that lock (issue 22: 1.5–3 ms per job at 100,000 messages).
//
// Reading the counters outside the lock misses nothing: what lowers a
// running campaign's first-step remainder after this read is a fold
// (which decides after its commit) or a cancellation (which needs no
// finish); a launch page or an A/B remainder raises it and decides at its
// own end (finishIfDone).
func (w *SendWorker) finishIfDrained(ctx context.Context, id int64) error {
	remaining, err := tracking.FirstStepRemaining(ctx, w.Pool, id)
	if err != nil || remaining > 0 {
		return err
	}
	return pgx.BeginFunc(ctx, w.Pool, func(tx pgx.Tx) error {
		_, err := finishIfDone(ctx, tx, id)
		return err
	})
}
