package engine

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/expr-lang/expr/vm"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/peykar/peykar/campaigns"
	"github.com/peykar/peykar/campaigns/contacts"
	"github.com/peykar/peykar/campaigns/deliveries"
	"github.com/peykar/peykar/internal/errs"
	"github.com/peykar/peykar/tracking"
)

// EntryArgs lets a contact into a triggered campaign for a contact event.
// Events now reach entries through the journey inbox (RunInbox); the worker
// stays for jobs enqueued before it.
type EntryArgs struct {
	CampaignID int64        `json:"campaign_id"`
	ContactID  int64        `json:"contact_id"`
	Event      JourneyEvent `json:"event"`
}

// Kind implements river.JobArgs.
func (EntryArgs) Kind() string { return "journey_entry" }

// InsertOpts puts entries on the rules queue.
func (EntryArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{Queue: QueueRules} }

// EntryWorker works EntryArgs through Engine.Enter.
type EntryWorker struct {
	river.WorkerDefaults[EntryArgs]
	Engine *Engine
}

// Work enters the contact in one transaction. A campaign whose segment no
// longer compiles cannot take entries: the job stops with the reason.
func (w *EntryWorker) Work(ctx context.Context, job *river.Job[EntryArgs]) error {
	a := job.Args
	err := pgx.BeginFunc(ctx, w.Engine.cfg.Pool, func(tx pgx.Tx) error {
		_, err := w.Engine.Enter(ctx, tx, a.CampaignID, []int64{a.ContactID},
			EntryCause{Reason: "event", TransactionID: a.Event.ID, Event: a.Event.env()})
		return err
	})
	switch {
	case errs.Is(err, errs.NotFound):
		return nil // the campaign or contact is gone
	case errs.Is(err, errs.Invalid):
		return river.JobCancel(fmt.Errorf("campaign %d entry: %w", a.CampaignID, err))
	}
	return err
}

// ExitArgs checks a triggered campaign's event exits for a contact event.
type ExitArgs struct {
	CampaignID int64        `json:"campaign_id"`
	ContactID  int64        `json:"contact_id"`
	Event      JourneyEvent `json:"event"`
}

// Kind implements river.JobArgs.
func (ExitArgs) Kind() string { return "journey_exit" }

// InsertOpts puts exits on the rules queue.
func (ExitArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{Queue: QueueRules} }

// ExitWorker works ExitArgs.
type ExitWorker struct {
	river.WorkerDefaults[ExitArgs]
	Engine *Engine
}

// Work exits the contact's active entries when an exit condition on the
// event's type holds, or else a goal exit (a conversion may have reached
// it). A `when` that fails to evaluate is logged and counts as not
// holding (the contact stays in).
func (w *ExitWorker) Work(ctx context.Context, job *river.Job[ExitArgs]) error {
	a := job.Args
	pool := w.Engine.cfg.Pool
	c, err := campaigns.Get(ctx, pool, a.CampaignID)
	if errs.Is(err, errs.NotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	var env *campaigns.EntryEnv
	var m vm.VM
	for i, x := range c.Exit {
		if x.Event != a.Event.Type {
			continue
		}
		if x.When != "" && env == nil {
			p, err := contacts.Get(ctx, pool, a.ContactID)
			if errs.Is(err, errs.NotFound) {
				return nil
			}
			if err != nil {
				return err
			}
			env = &campaigns.EntryEnv{Event: *a.Event.env(), Contact: p.Profile(), Now: w.Engine.Now()}
		}
		when, err := campaigns.CompileEntryWhen(fmt.Sprintf("exit[%d].when", i), x.When)
		if err != nil {
			return river.JobCancel(err)
		}
		ok := true
		if x.When != "" {
			if ok, err = when.Matches(&m, env); err != nil {
				w.Engine.Logger.WarnContext(ctx, "exit condition failed", slog.Int64("campaign_id", c.ID),
					slog.Int("exit", i), slog.Any("error", err))
				continue
			}
		}
		if !ok {
			continue
		}
		return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			_, err := w.Engine.Exit(ctx, tx, c.ID, a.ContactID, "event: "+x.Event)
			return err
		})
	}
	_, err = goalExit(ctx, pool, &c, a.ContactID, w.Engine.Now())
	return err
}

// Exit takes the contact's active entries out of triggered campaign
// campaignID, inside tx, with reason as their exit_reason, and returns how
// many entries left: each becomes exited, its round's deliveries not sent
// yet are skipped (and counted as skipped), and its pending timers and
// delayed sends do nothing when they come (the send worker skips a
// delivery of an exited round when it claims it; rules check the entry).
// Event and goal exits call it; so should the segment-exit check
// (reason "segment_exit").
func (e *Engine) Exit(ctx context.Context, tx pgx.Tx, campaignID, contactID int64, reason string) (int, error) {
	return exitEntries(ctx, tx, campaignID, contactID, reason, e.Now())
}

func exitEntries(ctx context.Context, tx pgx.Tx, campaignID, contactID int64, reason string, now time.Time) (int, error) {
	// The entries' lock: an entry being made now is either seen here or
	// sees this exit's event (exitOvertook).
	if _, err := tx.Exec(ctx, queries.Get("lock_entry"), campaignID, contactID); err != nil {
		return 0, fmt.Errorf("lock entry: %w", err)
	}
	rows, err := tx.Query(ctx, queries.Get("exit_entries"), campaignID, contactID, reason, now)
	if err != nil {
		return 0, fmt.Errorf("exit entries: %w", err)
	}
	rounds, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return 0, fmt.Errorf("exit entries: %w", err)
	}
	for _, round := range rounds {
		finals, err := deliveries.SkipRound(ctx, tx, campaignID, contactID, round, "contact exited the campaign: "+reason)
		if err != nil {
			return 0, err
		}
		if err := tracking.AddCounts(ctx, tx, countFinals(finals, now)); err != nil {
			return 0, err
		}
	}
	return len(rounds), nil
}

// goalExit exits the contact from c when one of c's goal exits holds over
// what the contact did in c (campaigns.PersonMetrics), and returns the
// reason ("" when none holds).
func goalExit(ctx context.Context, pool *pgxpool.Pool, c *campaigns.Campaign, contactID int64, now time.Time) (string, error) {
	if !c.HasGoalExit() {
		return "", nil
	}
	p, err := tracking.PersonOf(ctx, pool, c.ID, contactID)
	if err != nil {
		return "", err
	}
	goal, ok := c.GoalExitReached(campaigns.PersonMetrics(p), now)
	if !ok {
		return "", nil
	}
	reason := "goal: " + goal
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		_, err := exitEntries(ctx, tx, c.ID, contactID, reason, now)
		return err
	})
	return reason, err
}

// exitAll ends every active entry of the campaign (cancel).
func exitAll(ctx context.Context, tx pgx.Tx, campaignID int64, reason string, at time.Time) error {
	if _, err := tx.Exec(ctx, queries.Get("exit_campaign_entries"), campaignID, reason, at); err != nil {
		return fmt.Errorf("exit entries: %w", err)
	}
	return nil
}

// entryExited reports whether the entry (a delivery's round) has exited.
func entryExited(ctx context.Context, db DBTX, round int64) (bool, error) {
	if round == 0 {
		return false, nil
	}
	var exited bool
	if err := db.QueryRow(ctx, queries.Get("entry_exited"), round).Scan(&exited); err != nil {
		return false, fmt.Errorf("entry exited: %w", err)
	}
	return exited, nil
}

// markDoneIfIdle marks the entry (round) done when none of its deliveries
// is waiting to be sent.
func markDoneIfIdle(ctx context.Context, tx pgx.Tx, campaignID, contactID, round int64) error {
	pending, err := deliveries.RoundPending(ctx, tx, campaignID, contactID, round)
	if err != nil || pending {
		return err
	}
	if _, err := tx.Exec(ctx, queries.Get("entry_done"), round); err != nil {
		return fmt.Errorf("entry done: %w", err)
	}
	return nil
}

// settledRounds returns the entries (rounds) of a triggered campaign whose
// delivery in group just reached its outcome, for markRoundsDone in the
// send's transaction to mark done when they have nothing left to send —
// unless a rule still waits on the send (a timer watching the step, or a
// "sent" rule: they settle the entry when they have run).
func settledRounds(c *campaigns.Campaign, group []deliveries.Delivery, results []deliveries.Outcome) []int64 {
	if !c.Triggered() {
		return nil
	}
	byID := make(map[int64]deliveries.Delivery, len(group))
	for _, d := range group {
		byID[d.ID] = d
	}
	var rounds []int64
	for _, res := range results {
		d, ok := byID[res.ID]
		if !ok || d.Round == 0 || res.Status == deliveries.Queued || res.Status == deliveries.Held {
			continue
		}
		if res.Status == deliveries.Sent && rulesWaitOn(c, d.Step) {
			continue
		}
		rounds = append(rounds, d.Round)
	}
	return rounds
}

// markRoundsDone is markDoneIfIdle for many entries (rounds) at once: a
// group commit's whole flush, across its send jobs. It first locks the
// entries in id order: two flushes running at once (outcome_commit.go, or
// two processes) that each record one of a round's deliveries would
// otherwise each see the other's as still sending and leave the entry
// active for good; with the lock the second waits for the first's commit
// and its next statement sees it.
func markRoundsDone(ctx context.Context, tx pgx.Tx, rounds []int64) error {
	b := &pgx.Batch{}
	queueRoundsDone(b, rounds)
	if b.Len() == 0 {
		return nil
	}
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("entries done: %w", err)
	}
	return nil
}

// queueRoundsDone queues markRoundsDone's two statements on b (nothing
// when rounds is empty): in a pipeline each still runs with its own
// snapshot, so the second sees what a flush that held a lock committed.
func queueRoundsDone(b *pgx.Batch, rounds []int64) {
	if len(rounds) == 0 {
		return
	}
	b.Queue(queries.Get("entries_lock"), rounds)
	b.Queue(queries.Get("entries_done_if_idle"), rounds)
}

// rulesWaitOn reports whether a rule runs after a send of step: a timer
// watching it, or a "sent" rule covering it.
func rulesWaitOn(c *campaigns.Campaign, step string) bool {
	for _, r := range c.Rules {
		watch := r.Step
		if watch == "" && isTimer(r.On) && len(c.Steps) > 0 {
			watch = c.Steps[0].Key
		}
		if (isTimer(r.On) || r.On == "sent") && (watch == "" || watch == step) {
			return true
		}
	}
	return false
}
