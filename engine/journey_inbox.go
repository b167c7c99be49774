package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/peykar/peykar/internal/errs"
)

// The inbox (journey_inbox) carries event entries from an event's
// transaction to the drainer: writing a row costs the event one insert, and
// one drain lets many contacts in with one transaction, one rollup update
// and a few send jobs (docs/benchmarks.md, "Journeys (issue 19)").
const (
	// inboxBatch is the most rows one drain takes (Config.InboxBatch).
	inboxBatch = 1000
	// inboxPoll is how often an idle drainer looks at the inbox: the
	// longest an event posted to another process waits before its entry.
	inboxPoll = 200 * time.Millisecond
	// inboxGather is how long a drainer woken by an event of this process
	// waits before draining, so the event's transaction commits and the
	// events of the next moments join the batch. It bounds the drains, and
	// so the send jobs and the campaign's counter-row updates, to about ten
	// a second per process whatever the event rate: at a low rate many
	// tiny send jobs would queue on the counter rows (docs/benchmarks.md).
	inboxGather = 100 * time.Millisecond
	// inboxRetry is the wait after a drain failed as a whole.
	inboxRetry = time.Second
	// inboxAttempts is how many failed drains a row survives.
	inboxAttempts = 5
)

// inboxWaker wakes the drainer of this process; its buffer of one means a
// wake during a drain makes the next drain start at once.
type inboxWaker chan struct{}

func (w inboxWaker) wake() {
	select {
	case w <- struct{}{}:
	default:
	}
}

// inboxRows are inbox rows to write, as the columns of inbox_add.
type inboxRows struct {
	campaignIDs, contactIDs []int64
	events                  []string
}

// add appends the row of one (campaign, contact, event).
func (r *inboxRows) add(campaignID, contactID int64, ev JourneyEvent) error {
	body, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("journey inbox: %w", err)
	}
	r.campaignIDs = append(r.campaignIDs, campaignID)
	r.contactIDs = append(r.contactIDs, contactID)
	r.events = append(r.events, string(body))
	return nil
}

// queueInbox writes inbox rows in the events' transaction, with one
// statement, and wakes this process's drainer.
func (e *Engine) queueInbox(ctx context.Context, tx pgx.Tx, rows inboxRows) error {
	if len(rows.campaignIDs) == 0 {
		return nil
	}
	if _, err := tx.Exec(ctx, queries.Get("inbox_add"), rows.campaignIDs, rows.contactIDs, rows.events); err != nil {
		return fmt.Errorf("journey inbox: %w", err)
	}
	e.inbox.wake()
	return nil
}

// RunInbox drains the journey inbox until ctx ends: at once when an event
// of this process woke it, else every inboxPoll. Every process that works
// jobs runs it; drainers of several processes share the rows.
func (e *Engine) RunInbox(ctx context.Context) {
	poll := time.NewTimer(inboxPoll)
	defer poll.Stop()
	for {
		n, err := e.DrainInbox(ctx)
		wait := time.Duration(0)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			e.Logger.ErrorContext(ctx, "journey inbox: drain failed", slog.Any("error", err))
			wait = inboxRetry
		case n < e.inboxBatch():
			poll.Reset(inboxPoll)
			select {
			case <-ctx.Done():
				return
			case <-e.inbox:
				wait = inboxGather
			case <-poll.C:
			}
		}
		if wait > 0 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			}
		}
	}
}

// StartInbox runs RunInbox in the background and returns a function that
// stops it and waits for it.
func (e *Engine) StartInbox(ctx context.Context) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		e.RunInbox(ctx)
	}()
	return func() {
		cancel()
		<-done
	}
}

// inboxRow is one waiting entry.
type inboxRow struct {
	id, campaignID, contactID int64
	event                     JourneyEvent
	attempts                  int
}

func (e *Engine) inboxBatch() int {
	if e.cfg.InboxBatch > 0 {
		return e.cfg.InboxBatch
	}
	return inboxBatch
}

// DrainInbox takes up to Config.InboxBatch waiting rows and, in one transaction,
// lets their contacts in: one Enter per campaign, each contact with its own
// event, under the same per-(campaign, contact) lock as every entry. Rows of
// a campaign that is gone or cannot take entries are dropped, as the entry
// job dropped them; rows whose Enter failed otherwise stay for the next
// drain, up to inboxAttempts. It returns how many rows it took.
func (e *Engine) DrainInbox(ctx context.Context) (int, error) {
	var n int
	err := pgx.BeginFunc(ctx, e.cfg.Pool, func(tx pgx.Tx) error {
		rows, err := claimInbox(ctx, tx, e.inboxBatch())
		if err != nil {
			return err
		}
		n = len(rows)
		var done, failed []int64
		for _, group := range byCampaign(rows) {
			ids := make([]int64, len(group))
			for i, r := range group {
				ids[i] = r.id
			}
			if err := e.drainCampaign(ctx, tx, group); err != nil {
				e.Logger.ErrorContext(ctx, "journey inbox: entries failed", slog.Int64("campaign_id", group[0].campaignID),
					slog.Int("events", len(group)), slog.Any("error", err))
				for _, r := range group {
					if r.attempts+1 < inboxAttempts {
						failed = append(failed, r.id)
					} else {
						done = append(done, r.id)
					}
				}
				continue
			}
			done = append(done, ids...)
		}
		if len(done) > 0 {
			if _, err := tx.Exec(ctx, queries.Get("inbox_done"), done); err != nil {
				return fmt.Errorf("journey inbox: %w", err)
			}
		}
		if len(failed) > 0 {
			if _, err := tx.Exec(ctx, queries.Get("inbox_failed"), failed); err != nil {
				return fmt.Errorf("journey inbox: %w", err)
			}
		}
		return nil
	})
	return n, err
}

// drainCampaign enters one campaign's rows under a savepoint, so a failure
// undoes this campaign's entries only.
func (e *Engine) drainCampaign(ctx context.Context, tx pgx.Tx, group []inboxRow) error {
	sp, err := tx.Begin(ctx)
	if err != nil {
		return fmt.Errorf("journey inbox: %w", err)
	}
	ents := make([]entrant, len(group))
	for i, r := range group {
		ents[i] = entrant{contactID: r.contactID, cause: EntryCause{Reason: "event", TransactionID: r.event.ID, Event: r.event.env()}}
	}
	_, err = e.enter(ctx, sp, group[0].campaignID, ents)
	switch {
	case errs.Is(err, errs.NotFound):
		err = nil // the campaign is gone
	case errs.Is(err, errs.Invalid):
		e.Logger.WarnContext(ctx, "journey inbox: campaign cannot take entries", slog.Int64("campaign_id", group[0].campaignID), slog.Any("error", err))
		err = nil
	}
	if err != nil {
		_ = sp.Rollback(ctx)
		return err
	}
	if err := sp.Commit(ctx); err != nil {
		return fmt.Errorf("journey inbox: %w", err)
	}
	return nil
}

func claimInbox(ctx context.Context, tx pgx.Tx, limit int) ([]inboxRow, error) {
	rows, err := tx.Query(ctx, queries.Get("inbox_claim"), limit)
	if err != nil {
		return nil, fmt.Errorf("journey inbox: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (inboxRow, error) {
		var ir inboxRow
		return ir, r.Scan(&ir.id, &ir.campaignID, &ir.contactID, &ir.event, &ir.attempts)
	})
	if err != nil {
		return nil, fmt.Errorf("journey inbox: %w", err)
	}
	return out, nil
}

// byCampaign groups rows by campaign, in order of each campaign's first
// row; within a group the rows keep their order (a contact's events in the
// order they were recorded).
func byCampaign(rows []inboxRow) [][]inboxRow {
	var out [][]inboxRow
	at := map[int64]int{}
	for _, r := range rows {
		i, ok := at[r.campaignID]
		if !ok {
			i = len(out)
			at[r.campaignID] = i
			out = append(out, nil)
		}
		out[i] = append(out[i], r)
	}
	return out
}
