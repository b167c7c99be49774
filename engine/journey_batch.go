package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/peykar/peykar/campaigns"
	"github.com/peykar/peykar/campaigns/contacts"
	"github.com/peykar/peykar/campaigns/deliveries"
	"github.com/peykar/peykar/campaigns/holdout"
	"github.com/peykar/peykar/internal/errs"
)

// enterBatch lets in the entrants who qualify (Enter's rules) and returns
// the new deliveries of the first step. The checks that read one row per
// contact run as one statement for the whole batch: sendability, the
// (campaign, contact) locks (in contact id order), the last entries for the
// re-entry policy, the entries' and the deliveries' inserts. The checks that
// need one contact's data at a time (the segment, an exit that overtook the
// event, entry.when) run per entrant, in order, so a contact's two events
// in one batch are judged as two calls would judge them.
func (e *Engine) enterBatch(ctx context.Context, tx pgx.Tx, c *campaigns.Campaign, j journey, ents []entrant, now time.Time) ([]int64, error) {
	ids := make([]int64, 0, len(ents))
	for _, en := range ents {
		ids = append(ids, en.contactID)
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	sendable, err := contacts.SendableOn(ctx, tx, contacts.ChannelEmail, ids)
	if err != nil {
		return nil, err
	}
	ids = slices.DeleteFunc(ids, func(id int64) bool { return !sendable[id] })
	if len(ids) == 0 {
		return nil, nil
	}
	if _, err := tx.Exec(ctx, queries.Get("lock_entries"), c.ID, ids); err != nil {
		return nil, fmt.Errorf("lock entries: %w", err)
	}
	last, err := lastEntries(ctx, tx, c.ID, ids)
	if err != nil {
		return nil, err
	}
	var in []int64
	var txIDs []*int64
	for _, en := range ents {
		if !sendable[en.contactID] {
			continue
		}
		ok, err := e.admits(ctx, tx, c, j, en, now, last)
		if err != nil {
			return nil, err
		}
		if ok {
			in = append(in, en.contactID)
			txIDs = append(txIDs, eventID(en.cause))
			last[en.contactID] = now
		}
	}
	if len(in) == 0 {
		return nil, nil
	}
	step := c.Steps[0].Key
	who, rounds, err := insertEntries(ctx, tx, c.ID, step, now, in, txIDs)
	if err != nil {
		return nil, err
	}
	return deliveries.CreateEntryRounds(ctx, tx, c.ID, step, who, rounds)
}

// eventID is the entry's transaction_id: the cause's event, nil for none.
func eventID(cause EntryCause) *int64 {
	if cause.TransactionID == 0 {
		return nil
	}
	id := cause.TransactionID
	return &id
}

// admits judges one entrant who is sendable and whose lock is held: the
// segment, the re-entry policy over last (the contacts' latest counting
// entries, kept up to date by the caller), an exit event that overtook the
// entry's event, and entry.when (one that fails to evaluate is recorded as
// a failed entry).
func (e *Engine) admits(ctx context.Context, tx pgx.Tx, c *campaigns.Campaign, j journey, en entrant, now time.Time, last map[int64]time.Time) (bool, error) {
	contactID, cause := en.contactID, en.cause
	if j.segment != nil {
		in, err := j.segment.Contains(ctx, tx, now, contactID)
		if errs.Is(err, errs.Invalid) {
			e.Logger.WarnContext(ctx, "entry: segment cannot be judged", slog.Int64("campaign_id", c.ID), slog.Any("error", err))
			return false, nil
		}
		if err != nil || !in {
			return false, err
		}
	}
	if at, ok := last[contactID]; ok {
		period := c.ReentryPeriod()
		if period >= 0 && (period == 0 || now.Before(at.Add(period))) {
			return false, nil
		}
	}
	if cause.TransactionID != 0 {
		// An exit event recorded after the one that lets the contact in
		// (a purchase right after the cart) may have been handled before
		// this entry: it keeps them out. Exits take the same lock, so one
		// of the two always sees the other.
		if out, err := exitOvertook(ctx, tx, c, contactID, cause.TransactionID, now); err != nil || out {
			return false, err
		}
	}
	matched, evalErr := e.entryWhen(ctx, tx, c, j, contactID, cause, now)
	if evalErr != nil {
		var de *errs.Error
		if !errors.As(evalErr, &de) {
			return false, evalErr
		}
		e.Logger.WarnContext(ctx, "entry condition failed", slog.Int64("campaign_id", c.ID), slog.Int64("contact_id", contactID), slog.Any("error", evalErr))
		_, err := insertEntry(ctx, tx, c.ID, contactID, now, "", eventID(cause), EntryFailed, de.Message)
		return false, err
	}
	if !matched {
		return false, nil
	}
	// A holdout member is recorded and enters nothing: no entry, no send.
	if held, err := holdout.Enter(ctx, tx, c.ID, c.Settings.Holdout, contactID, now); err != nil || held {
		return false, err
	}
	return true, nil
}

// lastEntries returns the latest entry that counts for re-entry of each of
// the contacts that has one. The caller holds their locks.
func lastEntries(ctx context.Context, tx pgx.Tx, campaignID int64, contactIDs []int64) (map[int64]time.Time, error) {
	rows, err := tx.Query(ctx, queries.Get("last_entries"), campaignID, contactIDs)
	if err != nil {
		return nil, fmt.Errorf("last entries: %w", err)
	}
	out := map[int64]time.Time{}
	var id int64
	var at time.Time
	_, err = pgx.ForEachRow(rows, []any{&id, &at}, func() error {
		out[id] = at
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("last entries: %w", err)
	}
	return out, nil
}

// insertEntries records active entries at step, contactIDs[i] for event
// txIDs[i], and returns each new entry's contact and id (its round).
func insertEntries(ctx context.Context, tx pgx.Tx, campaignID int64, step string, at time.Time, contactIDs []int64, txIDs []*int64) (who, rounds []int64, err error) {
	rows, err := tx.Query(ctx, queries.Get("insert_entries"), campaignID, at, step, contactIDs, txIDs)
	if err != nil {
		return nil, nil, fmt.Errorf("record entries: %w", err)
	}
	var id, contactID int64
	_, err = pgx.ForEachRow(rows, []any{&id, &contactID}, func() error {
		who, rounds = append(who, contactID), append(rounds, id)
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("record entries: %w", err)
	}
	return who, rounds, nil
}
