package engine

import (
	"context"
	"fmt"
	"time"

	"github.com/expr-lang/expr/vm"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/peykar/peykar/campaigns"
	"github.com/peykar/peykar/campaigns/contacts"
	"github.com/peykar/peykar/campaigns/deliveries"
	"github.com/peykar/peykar/campaigns/segments"
	"github.com/peykar/peykar/internal/errs"
	"github.com/peykar/peykar/tracking"
)

// Entry statuses (campaign_entries.status).
const (
	EntryActive = "active"
	EntryExited = "exited"
	EntryDone   = "done"
	// EntryFailed is an entry whose entry.when could not be evaluated
	// (exit_reason holds the error); it never counts against re-entry.
	EntryFailed = "failed"
)

// ExitCancelled is the exit reason of the entries a cancel ends.
const ExitCancelled = "cancelled"

// EntryCause is why contacts enter a triggered campaign.
type EntryCause struct {
	// Reason names the cause for logs: "event", "segment_entry".
	Reason string
	// TransactionID is the contact event (transactions.id) that caused the
	// entry, 0 for none; it is recorded with the entry.
	TransactionID int64
	// Event is what entry.when sees as `event`; nil is a zero event (a
	// segment entry, whose `when` looks at the contact).
	Event *campaigns.EntryEventEnv
}

// Enter lets contacts into triggered campaign campaignID, inside tx, and
// returns how many entered. For each contact, under a lock on (campaign,
// contact) so concurrent calls cannot both enter it:
//
//   - the campaign must be running or paused (entries made while paused
//     wait, their sends held until resume), triggered, and before ends_at;
//     otherwise nobody enters and the answer is 0, nil;
//   - the contact must be sendable and, when the campaign has a segment,
//     match it now (segments' one-contact match);
//   - the re-entry policy must allow it ("never": no earlier entry;
//     a period: none within it; "always");
//   - entry.when must hold over cause.Event and the contact; one that fails
//     to evaluate is recorded as a failed entry with the error as its
//     reason, and the call goes on.
//
// An entry is a campaign_entries row whose id is the round of its
// deliveries: the first step's delivery is created in that round, counted,
// and its send job enqueued in tx (at entry.delay after now; exits are
// checked when it is claimed). A contact that does not qualify is left
// out silently. An unknown campaign is errs.NotFound.
func (e *Engine) Enter(ctx context.Context, tx pgx.Tx, campaignID int64, contactIDs []int64, cause EntryCause) (int, error) {
	ents := make([]entrant, len(contactIDs))
	for i, id := range contactIDs {
		ents[i] = entrant{contactID: id, cause: cause}
	}
	return e.enter(ctx, tx, campaignID, ents)
}

// entrant is one contact that may enter, and why.
type entrant struct {
	contactID int64
	cause     EntryCause
}

// enter is Enter with a cause per contact (the inbox drainer's batches:
// each contact's own event). The first step's deliveries are counted in
// one rollup update and sent by as few jobs as the batch size allows, so a
// batch of many entries touches the campaign's counter rows once.
func (e *Engine) enter(ctx context.Context, tx pgx.Tx, campaignID int64, ents []entrant) (int, error) {
	c, err := campaigns.Get(ctx, tx, campaignID)
	if err != nil {
		return 0, err
	}
	now := e.Now()
	if !acceptsEntries(&c, now) {
		return 0, nil
	}
	j, err := compileJourney(ctx, tx, &c)
	if err != nil {
		return 0, err
	}
	sendIDs, err := e.enterBatch(ctx, tx, &c, j, ents, now)
	if err != nil {
		return 0, err
	}
	if len(sendIDs) == 0 {
		return 0, nil
	}
	err = tracking.AddCounts(ctx, tx, []tracking.Count{{CampaignID: c.ID, Step: c.Steps[0].Key,
		Metric: tracking.MetricDeliveries, At: now, N: int64(len(sendIDs))}})
	if err != nil {
		return 0, err
	}
	opts := &river.InsertOpts{}
	if d := c.EntryDelay(); d > 0 {
		opts.ScheduledAt = now.Add(d)
	}
	var params []river.InsertManyParams
	batch := sendBatchSize(c.ThrottlePerSecond)
	for start := 0; start < len(sendIDs); start += batch {
		params = append(params, river.InsertManyParams{InsertOpts: opts,
			Args: SendArgs{CampaignID: c.ID, DeliveryIDs: sendIDs[start:min(start+batch, len(sendIDs))]}})
	}
	if _, err := e.client.InsertManyTx(ctx, tx, params); err != nil {
		return 0, fmt.Errorf("enqueue entry sends: %w", err)
	}
	return len(sendIDs), nil
}

// acceptsEntries reports whether c takes entries at now.
func acceptsEntries(c *campaigns.Campaign, now time.Time) bool {
	if !c.Triggered() || len(c.Steps) == 0 {
		return false
	}
	if c.Status != campaigns.StatusRunning && c.Status != campaigns.StatusPaused {
		return false
	}
	return c.EndsAt == nil || now.Before(*c.EndsAt)
}

// journey is a triggered campaign's compiled entry filter.
type journey struct {
	segment *segments.Compiled // nil: anyone
	when    campaigns.CompiledWhen
}

func compileJourney(ctx context.Context, db DBTX, c *campaigns.Campaign) (journey, error) {
	var j journey
	var err error
	if j.when, err = campaigns.CompileEntryWhen("entry.when", c.Entry.When); err != nil {
		return j, err // validated on save: only a stricter check can get here
	}
	if c.SegmentID == nil {
		return j, nil
	}
	seg, err := segments.GetSegment(ctx, db, *c.SegmentID)
	if err != nil {
		return j, err
	}
	j.segment, err = segments.CompileSegment(seg.Rule)
	return j, err
}

// entryWhen evaluates entry.when for the contact. A run-time failure of
// the expression is an *errs.Error (recorded as the entry's failure); any
// other error is trouble reading the contact.
func (e *Engine) entryWhen(ctx context.Context, tx pgx.Tx, c *campaigns.Campaign, j journey, contactID int64, cause EntryCause, now time.Time) (bool, error) {
	if c.Entry.When == "" {
		return true, nil
	}
	p, err := contacts.Get(ctx, tx, contactID)
	if err != nil {
		return false, err
	}
	env := &campaigns.EntryEnv{Contact: p.Profile(), Now: now}
	if cause.Event != nil {
		env.Event = *cause.Event
	}
	var m vm.VM
	ok, err := j.when.Matches(&m, env)
	if err != nil {
		return false, errs.New(errs.Invalid, "entry.when: %v", err)
	}
	return ok, nil
}

func insertEntry(ctx context.Context, tx pgx.Tx, campaignID, contactID int64, at time.Time, step string, txID *int64, status, reason string) (int64, error) {
	var exitedAt *time.Time
	if status == EntryFailed {
		exitedAt = &at
	}
	var id int64
	err := tx.QueryRow(ctx, queries.Get("insert_entry"), campaignID, contactID, at, step, txID, status, reason, exitedAt).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("record entry: %w", err)
	}
	return id, nil
}

// insertRound creates the contact's delivery of step in round (an entry),
// counts it at at, and makes step the entry's current step.
func insertRound(ctx context.Context, tx pgx.Tx, campaignID int64, step string, contactID, round int64, at time.Time) ([]int64, error) {
	ids, err := deliveries.CreateRound(ctx, tx, campaignID, step, []int64{contactID}, round)
	if err != nil || len(ids) == 0 {
		return nil, err
	}
	if _, err := tx.Exec(ctx, queries.Get("set_entry_step"), round, step); err != nil {
		return nil, fmt.Errorf("entry step: %w", err)
	}
	err = tracking.AddCounts(ctx, tx, []tracking.Count{{CampaignID: campaignID, Step: step, Metric: tracking.MetricDeliveries, At: at, N: int64(len(ids))}})
	return ids, err
}

// exitOvertook reports whether an event exit of c holds for one of the
// contact's events recorded after event afterID.
func exitOvertook(ctx context.Context, tx pgx.Tx, c *campaigns.Campaign, contactID, afterID int64, now time.Time) (bool, error) {
	var types []string
	for _, x := range c.Exit {
		if x.Event != "" {
			types = append(types, x.Event)
		}
	}
	if len(types) == 0 {
		return false, nil
	}
	later, err := contacts.EventsAfter(ctx, tx, contactID, afterID, types, 20)
	if err != nil || len(later) == 0 {
		return false, err
	}
	p, err := contacts.Get(ctx, tx, contactID)
	if err != nil {
		return false, err
	}
	var m vm.VM
	for _, t := range later {
		ev := JourneyEvent{ID: t.ID, Type: t.Type, Value: t.Value, Currency: t.Currency, Attributes: t.Attributes, At: t.OccurredAt}
		env := &campaigns.EntryEnv{Event: *ev.env(), Contact: p.Profile(), Now: now}
		for i, x := range c.Exit {
			if x.Event != t.Type {
				continue
			}
			when, err := campaigns.CompileEntryWhen(fmt.Sprintf("exit[%d].when", i), x.When)
			if err != nil {
				return false, err
			}
			if ok, err := when.Matches(&m, env); err == nil && ok {
				return true, nil
			}
		}
	}
	return false, nil
}
