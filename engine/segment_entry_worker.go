package engine

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/peykar/peykar/campaigns"
	"github.com/peykar/peykar/internal/errs"
)

// SegmentSyncInterval is how often the periodic check compares every
// segment-entry campaign's segment with its members.
const SegmentSyncInterval = time.Minute

// contactCheckDelay is how long a per-contact check waits before it runs:
// the changes of a contact within it (a burst of tracking events, an
// import's rows) share one check, since a check waiting to run absorbs
// later requests for the same contact.
const contactCheckDelay = time.Second

// SegmentSyncArgs is the periodic check of the segment-entry campaigns.
type SegmentSyncArgs struct{}

// Kind implements river.JobArgs.
func (SegmentSyncArgs) Kind() string { return "journey_segment_sync" }

// InsertOpts puts the check on the rules queue, one at a time.
func (SegmentSyncArgs) InsertOpts() river.InsertOpts { return onceAtATime(QueueRules) }

// SegmentSyncWorker works SegmentSyncArgs.
type SegmentSyncWorker struct {
	river.WorkerDefaults[SegmentSyncArgs]
	Engine *Engine
}

// Work runs Engine.SyncSegmentEntries.
func (w *SegmentSyncWorker) Work(ctx context.Context, _ *river.Job[SegmentSyncArgs]) error {
	return w.Engine.SyncSegmentEntries(ctx)
}

// ContactCheckArgs checks one changed contact against the segment-entry
// campaigns. At most one waits per contact (unique by contact while
// available, scheduled, pending or running): a flood of changes to a
// contact costs one check, and the cost of a flood is bounded by the
// number of distinct contacts, never a segment scan per change. A change
// made while its check is running may be missed by it; the periodic check
// catches it within SegmentSyncInterval.
type ContactCheckArgs struct {
	ContactID int64 `json:"contact_id" river:"unique"`
}

// Kind implements river.JobArgs.
func (ContactCheckArgs) Kind() string { return "journey_contact_check" }

// InsertOpts makes the check unique per contact while it waits.
func (ContactCheckArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueRules, UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: []rivertype.JobState{
		rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning, rivertype.JobStateScheduled,
	}}}
}

// ContactCheckWorker works ContactCheckArgs.
type ContactCheckWorker struct {
	river.WorkerDefaults[ContactCheckArgs]
	Engine *Engine
}

// Work runs Engine.CheckContact.
func (w *ContactCheckWorker) Work(ctx context.Context, job *river.Job[ContactCheckArgs]) error {
	return w.Engine.CheckContact(ctx, job.Args.ContactID)
}

// ContactsChanged enqueues, in tx, a membership check of each contact for
// the segment-entry campaigns (contact created, changed, imported, an
// event recorded). It does nothing when no segment-entry campaign runs
// (the engine's short-lived list of running triggered campaigns says).
func (e *Engine) ContactsChanged(ctx context.Context, tx pgx.Tx, contactIDs []int64) error {
	if len(contactIDs) == 0 {
		return nil
	}
	list, err := e.triggers.get(ctx, tx)
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(list, func(c campaigns.Campaign) bool { return c.Entry.Type == campaigns.EntrySegmentEntry }) {
		return nil
	}
	at := e.Now().Add(contactCheckDelay)
	params := make([]river.InsertManyParams, 0, len(contactIDs))
	for _, id := range contactIDs {
		params = append(params, river.InsertManyParams{Args: ContactCheckArgs{ContactID: id},
			InsertOpts: &river.InsertOpts{ScheduledAt: at}})
	}
	if _, err := e.client.InsertManyTx(ctx, tx, params); err != nil {
		return fmt.Errorf("enqueue contact checks: %w", err)
	}
	return nil
}

// CheckContact compares one contact with each running segment-entry
// campaign's segment at the engine's clock: a contact now in it who was not
// a member enters the campaign; a member no longer in it leaves the
// segment (and the campaign, with {"segment_exit":true}). A campaign whose
// baseline is not taken yet is skipped: the baseline will count the
// contact. A segment that cannot be judged for the contact is skipped.
func (e *Engine) CheckContact(ctx context.Context, contactID int64) error {
	ids, err := e.segmentEntryCampaigns(ctx, e.cfg.Pool)
	if err != nil {
		return err
	}
	for _, id := range ids {
		err := pgx.BeginFunc(ctx, e.cfg.Pool, func(tx pgx.Tx) error {
			return e.checkContactIn(ctx, tx, id, contactID)
		})
		if err != nil {
			return fmt.Errorf("campaign %d contact %d: %w", id, contactID, err)
		}
	}
	return nil
}

func (e *Engine) checkContactIn(ctx context.Context, tx pgx.Tx, campaignID, contactID int64) error {
	c, rule, ok, err := e.segmentJourney(ctx, tx, campaignID)
	if err != nil || !ok {
		return err
	}
	if baselined, err := hasBaseline(ctx, tx, c.ID); err != nil || !baselined {
		return err
	}
	now := e.Now()
	in, err := rule.Contains(ctx, tx, now, contactID)
	if errs.Is(err, errs.Invalid) {
		return nil
	}
	if err != nil {
		return err
	}
	if in {
		changed, err := memberChange(ctx, tx, "add_member", c.ID, contactID, now)
		if err != nil || !changed {
			return err
		}
		return e.enterMembers(ctx, tx, &c, []int64{contactID})
	}
	changed, err := memberChange(ctx, tx, "remove_member", c.ID, contactID, now)
	if err != nil || !changed {
		return err
	}
	return e.leaveMembers(ctx, tx, &c, []int64{contactID})
}

// memberChange runs add_member or remove_member and reports whether it
// changed the membership.
func memberChange(ctx context.Context, tx pgx.Tx, query string, campaignID, contactID int64, now time.Time) (bool, error) {
	args := []any{campaignID, contactID}
	if query == "add_member" {
		args = append(args, now)
	}
	rows, err := tx.Query(ctx, queries.Get(query), args...)
	if err != nil {
		return false, fmt.Errorf("segment member: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return false, fmt.Errorf("segment member: %w", err)
	}
	return len(ids) > 0, nil
}
