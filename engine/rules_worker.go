package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/expr-lang/expr/vm"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/peykar/peykar/campaigns"
	"github.com/peykar/peykar/campaigns/contacts"
	"github.com/peykar/peykar/campaigns/deliveries"
	"github.com/peykar/peykar/internal/baseservice"
	"github.com/peykar/peykar/internal/errs"
	"github.com/peykar/peykar/tracking"
)

// holdWhilePaused is how often a paused campaign's follow-ups look again.
const holdWhilePaused = 10 * time.Second

// Rules evaluates follow-up rules and runs their actions. Each (rule,
// delivery) fires at most once: the rule_firings primary key decides, in the
// same transaction as the actions, so retries and duplicate events cannot
// double-send.
type Rules struct {
	Pool *pgxpool.Pool
	baseservice.Base

	mu       sync.Mutex
	compiled map[int64]compiledRules // by campaign
}

type compiledRules struct {
	updatedAt time.Time
	rules     []campaigns.CompiledRule
}

// trigger is what happened to a delivery.
type trigger struct {
	Type    string
	LinkIdx *int
	URL     string
	Value   float64
	At      time.Time
	// Only, when set, limits evaluation to the rule of that name (timers).
	Only string
}

// errHold asks the caller to come back later (the campaign is paused).
var errHold = errors.New("campaign paused: follow-ups held")

// Fire runs the campaign's rules for a trigger on a delivery.
func (r *Rules) Fire(ctx context.Context, client *river.Client[pgx.Tx], campaignID, deliveryID int64, t trigger) error {
	c, err := campaigns.Get(ctx, r.Pool, campaignID)
	if errs.Is(err, errs.NotFound) {
		return nil // the campaign was deleted: nothing to follow up
	}
	if err != nil {
		return err
	}
	if c.Status == campaigns.StatusPaused {
		return errHold
	}
	if !c.RulesActiveAt(r.Now()) {
		return nil // cancelled, or past rules_until: dropped
	}
	rules, err := r.rulesOf(c)
	if errs.Is(err, errs.Invalid) {
		// A rule saved before a stricter check (its evaluation budget, say)
		// no longer compiles: running again gives the same answer.
		return river.JobCancel(fmt.Errorf("campaign %d: %w", campaignID, err))
	}
	if err != nil {
		return err
	}
	d, err := loadDelivery(ctx, r.Pool, deliveryID)
	if err != nil {
		return err
	}
	var todo []campaigns.CompiledRule
	for _, cr := range rules {
		if cr.On != t.Type || (t.Only != "" && cr.Name != t.Only) {
			continue
		}
		if cr.Step != "" && cr.Step != d.step && !isTimer(cr.On) {
			continue
		}
		todo = append(todo, cr)
	}
	if len(todo) == 0 {
		return nil
	}
	p, err := contacts.Get(ctx, r.Pool, d.contactID)
	if err != nil {
		return err
	}
	env := &campaigns.RuleEnv{
		Event:    campaigns.RuleEvent{Type: t.Type, Value: t.Value, At: t.At},
		Contact:  p.Profile(),
		Delivery: campaigns.RuleDelivery{ID: d.id, Step: d.step, SentAt: d.sentAt},
		Campaign: campaigns.RuleCampaign{ID: c.ID, Name: c.Name},
		Now:      r.Now(),
	}
	if t.LinkIdx != nil {
		env.Event.Link, err = linkOf(ctx, r.Pool, c.ID, d.step, *t.LinkIdx)
		if err != nil {
			return err
		}
		if t.URL != "" {
			env.Event.Link.URL = t.URL
		}
	}
	var machine vm.VM
	return pgx.BeginFunc(ctx, r.Pool, func(tx pgx.Tx) error {
		for _, cr := range todo {
			exited, err := hasExited(ctx, tx, c.ID, p.ID)
			if err != nil {
				return err
			}
			if roundExited, err := entryExited(ctx, tx, d.round); err != nil || roundExited {
				return err // the entry left the journey: its rules fire nothing
			}
			if exited {
				return nil
			}
			ok, evalErr := cr.Matches(&machine, env)
			if evalErr != nil {
				r.Logger.WarnContext(ctx, "rule failed", slog.Int64("campaign_id", c.ID), slog.String("rule", cr.Name), slog.Any("error", evalErr))
				if _, err := recordFiring(ctx, tx, c.ID, cr.Name, d, "failed", evalErr.Error()); err != nil {
					return err
				}
				continue
			}
			if !ok {
				continue
			}
			if err := r.fireOne(ctx, tx, client, &c, cr, d, env); err != nil {
				return err
			}
		}
		return nil
	})
}

// fireOne claims the (rule, delivery) firing and runs the actions inside a
// savepoint: an action that fails rolls back alone and is recorded as the
// rule's failure, so one bad rule never blocks the others.
func (r *Rules) fireOne(ctx context.Context, tx pgx.Tx, client *river.Client[pgx.Tx], c *campaigns.Campaign, cr campaigns.CompiledRule, d ruleDelivery, env *campaigns.RuleEnv) error {
	sp, err := tx.Begin(ctx)
	if err != nil {
		return err
	}
	claimed, err := recordFiring(ctx, sp, c.ID, cr.Name, d, "fired", "")
	if err != nil || !claimed {
		_ = sp.Rollback(ctx)
		return err
	}
	actionErr := r.runActions(ctx, sp, client, c, cr, d, env)
	if actionErr == nil {
		return sp.Commit(ctx)
	}
	if err := sp.Rollback(ctx); err != nil {
		return err
	}
	var de *errs.Error
	if !errors.As(actionErr, &de) {
		return actionErr // infrastructure trouble: retry the job
	}
	r.Logger.WarnContext(ctx, "rule action failed", slog.Int64("campaign_id", c.ID), slog.String("rule", cr.Name), slog.Any("error", actionErr))
	_, err = recordFiring(ctx, tx, c.ID, cr.Name, d, "failed", actionErr.Error())
	return err
}

func (r *Rules) runActions(ctx context.Context, tx pgx.Tx, client *river.Client[pgx.Tx], c *campaigns.Campaign, cr campaigns.CompiledRule, d ruleDelivery, env *campaigns.RuleEnv) error {
	for _, a := range cr.Actions {
		var err error
		switch a.Type {
		case "send":
			err = r.sendStep(ctx, tx, client, c, cr.Name, a, d)
		case "set_attribute":
			err = contacts.SetAttribute(ctx, tx, d.contactID, a.Name, a.Value)
		case "add_tag":
			err = contacts.AddTag(ctx, tx, d.contactID, a.Tag)
		case "remove_tag":
			err = contacts.RemoveTag(ctx, tx, d.contactID, a.Tag)
		case "exit":
			if d.round > 0 {
				// A triggered campaign: the contact's entries leave (a later
				// entry may come back, as reentry allows).
				_, err = exitEntries(ctx, tx, c.ID, d.contactID, "rule: "+cr.Name, r.Now())
				break
			}
			_, err = tx.Exec(ctx, queries.Get("record_exit"), c.ID, d.contactID, cr.Name)
		case "webhook":
			err = r.enqueueWebhook(ctx, tx, client, c, cr, a, env)
		default:
			err = errs.New(errs.Invalid, "unknown action %q", a.Type)
		}
		if err != nil {
			return fmt.Errorf("action %s: %w", a.Type, err)
		}
	}
	return nil
}

// sendStep creates the step's delivery for the contact (once: deliveries are
// unique per campaign, step, contact and round, the round of the delivery
// the rule fired on) and schedules its send after the delay. Suppression,
// pause and throttle are the send worker's as for any send.
func (r *Rules) sendStep(ctx context.Context, tx pgx.Tx, client *river.Client[pgx.Tx], c *campaigns.Campaign, rule string, a campaigns.Action, d ruleDelivery) error {
	contactID := d.contactID
	ok, err := contacts.IsSendableOn(ctx, tx, c.ChannelName(), contactID)
	if err != nil || !ok {
		return err
	}
	var ids []int64
	if d.round > 0 {
		ids, err = insertRound(ctx, tx, c.ID, a.Step, contactID, d.round, r.Now())
	} else {
		ids, err = insertDeliveries(ctx, tx, c.ID, a.Step, []int64{contactID}, r.Now())
	}
	if err != nil || len(ids) == 0 {
		return err
	}
	opts := &river.InsertOpts{}
	if a.Delay != "" {
		d, _ := time.ParseDuration(a.Delay) // validated on save
		opts.ScheduledAt = r.Now().Add(d)
	}
	_, err = client.InsertTx(ctx, tx, SendArgs{CampaignID: c.ID, DeliveryIDs: ids, Rule: rule, Step: a.Step}, opts)
	return err
}

func (r *Rules) enqueueWebhook(ctx context.Context, tx pgx.Tx, client *river.Client[pgx.Tx], c *campaigns.Campaign, cr campaigns.CompiledRule, a campaigns.Action, env *campaigns.RuleEnv) error {
	body, err := json.Marshal(map[string]any{
		"rule": cr.Name, "campaign": map[string]any{"id": c.ID, "name": c.Name},
		"event":    map[string]any{"type": env.Event.Type, "at": env.Event.At, "value": env.Event.Value, "link": map[string]string{"url": env.Event.Link.URL, "name": env.Event.Link.Name}},
		"contact":  map[string]any{"id": env.Contact.ID, "email": env.Contact.Email, "name": env.Contact.Name, "attributes": env.Contact.Attributes, "tags": env.Contact.Tags},
		"delivery": map[string]any{"id": env.Delivery.ID, "step": env.Delivery.Step},
	})
	if err != nil {
		return errs.New(errs.Invalid, "webhook payload: %v", err)
	}
	// The secret stays out of the job's arguments (River UI shows them):
	// the worker reads it from the campaign.
	_, err = client.InsertTx(ctx, tx, WebhookArgs{URL: a.URL, Body: body, CampaignID: c.ID}, nil)
	return err
}

func (r *Rules) rulesOf(c campaigns.Campaign) ([]campaigns.CompiledRule, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if e, ok := r.compiled[c.ID]; ok && e.updatedAt.Equal(c.UpdatedAt) {
		return e.rules, nil
	}
	rules, err := campaigns.CompileRules(c.Rules)
	if err != nil {
		return nil, err // validated on save: only a schema change can get here
	}
	if r.compiled == nil || len(r.compiled) > 1000 {
		r.compiled = map[int64]compiledRules{}
	}
	r.compiled[c.ID] = compiledRules{updatedAt: c.UpdatedAt, rules: rules}
	return rules, nil
}

func isTimer(on string) bool { return on == "no_open" || on == "no_click" || on == "no_conversion" }

type ruleDelivery struct {
	id, campaignID, contactID int64
	step                      string
	sentAt                    time.Time
	// round is the triggered campaign's entry (0: a blast's delivery):
	// the steps a rule sends go in the same round.
	round int64
}

func loadDelivery(ctx context.Context, db DBTX, id int64) (ruleDelivery, error) {
	r, err := deliveries.Get(ctx, db, id)
	if err != nil {
		return ruleDelivery{}, err
	}
	return ruleDelivery{id: r.ID, campaignID: r.CampaignID, contactID: r.ContactID, step: r.Step, sentAt: r.SentAt, round: r.Round}, nil
}

func linkOf(ctx context.Context, db DBTX, campaignID int64, step string, idx int) (campaigns.RuleLink, error) {
	l, _, err := campaigns.LinkOf(ctx, db, campaignID, step, idx)
	return campaigns.RuleLink{URL: l.URL, Name: l.Name}, err
}

func hasExited(ctx context.Context, db DBTX, campaignID, contactID int64) (bool, error) {
	var exited bool
	err := db.QueryRow(ctx, queries.Get("has_exited"), campaignID, contactID).Scan(&exited)
	return exited, err
}

// recordTimerSkips records the timer's deliveries that are not due (their
// condition no longer held) as skipped by its rule: the journey map's and
// the report's skipped count.
func recordTimerSkips(ctx context.Context, db DBTX, a TimerArgs, due []int64) error {
	isDue := make(map[int64]bool, len(due))
	for _, id := range due {
		isDue[id] = true
	}
	var skipped []int64
	for _, id := range a.DeliveryIDs {
		if !isDue[id] {
			skipped = append(skipped, id)
		}
	}
	if len(skipped) == 0 {
		return nil
	}
	if _, err := db.Exec(ctx, queries.Get("record_timer_skips"), a.CampaignID, a.Rule, skipped); err != nil {
		return fmt.Errorf("record timer skips: %w", err)
	}
	return nil
}

// recordFiring inserts the (rule, delivery) row; false means it existed.
func recordFiring(ctx context.Context, db DBTX, campaignID int64, rule string, d ruleDelivery, status, errText string) (bool, error) {
	tag, err := db.Exec(ctx, queries.Get("record_firing"), campaignID, rule, d.id, d.contactID, status, errText)
	if err != nil {
		return false, fmt.Errorf("record rule firing: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

// RulesWorker works the rules jobs the tracking writer enqueues with each
// human event (and the engine with each send). An event reclassified as
// machine traffic by the time its job runs fires nothing.
type RulesWorker struct {
	river.WorkerDefaults[tracking.RuleEventArgs]
	Rules *Rules
}

// Work implements river.Worker.
func (w *RulesWorker) Work(ctx context.Context, job *river.Job[tracking.RuleEventArgs]) error {
	a := job.Args
	if skip, err := w.Rules.skipEvent(ctx, a); err != nil || skip {
		return err
	}
	err := w.Rules.Fire(ctx, river.ClientFromContext[pgx.Tx](ctx), a.CampaignID, a.DeliveryID,
		trigger{Type: a.Type, LinkIdx: a.LinkIdx, URL: a.URL, Value: a.Value, At: a.At})
	if errors.Is(err, errHold) {
		return river.JobSnooze(holdWhilePaused)
	}
	if err == nil && a.Type == "sent" {
		// The send left its entry active for this job (settleEntries).
		return w.Rules.settleRounds(ctx, []int64{a.DeliveryID})
	}
	return err
}

// TimerArgs checks a timer rule (no_open, no_click, no_conversion) for the
// deliveries of one send batch, when its wait is over.
type TimerArgs struct {
	CampaignID  int64   `json:"campaign_id"`
	Rule        string  `json:"rule"`
	DeliveryIDs []int64 `json:"delivery_ids"`
}

// Kind implements river.JobArgs.
func (TimerArgs) Kind() string { return "rule_timer" }

// InsertOpts puts timers on the rules queue.
func (TimerArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{Queue: QueueRules} }

// TimerWorker works TimerArgs.
type TimerWorker struct {
	river.WorkerDefaults[TimerArgs]
	Rules *Rules
}

// Work fires the rule for each delivery whose condition still holds: no
// human open, no human click, or no conversion attributed to it.
func (w *TimerWorker) Work(ctx context.Context, job *river.Job[TimerArgs]) error {
	a := job.Args
	c, err := campaigns.Get(ctx, w.Rules.Pool, a.CampaignID)
	if err != nil {
		return err
	}
	var on string
	for _, r := range c.Rules {
		if r.Name == a.Rule {
			on = r.On
		}
	}
	due, ok, err := deliveries.SentWithout(ctx, w.Rules.Pool, deliveries.Absence(on), a.DeliveryIDs)
	if err != nil {
		return err
	}
	if !ok {
		return nil // the rule was removed or changed to an event rule
	}
	if err := recordTimerSkips(ctx, w.Rules.Pool, a, due); err != nil {
		return err
	}
	client := river.ClientFromContext[pgx.Tx](ctx)
	for _, id := range due {
		err := w.Rules.Fire(ctx, client, a.CampaignID, id, trigger{Type: on, At: w.Rules.Now(), Only: a.Rule})
		if errors.Is(err, errHold) {
			return river.JobSnooze(holdWhilePaused)
		}
		if err != nil {
			return err
		}
	}
	return w.Rules.settleRounds(ctx, a.DeliveryIDs)
}

// settleRounds marks done the entries (of triggered campaigns) of the
// timer's deliveries that have nothing left to send: their timer was the
// last thing pending.
func (r *Rules) settleRounds(ctx context.Context, ids []int64) error {
	for _, id := range ids {
		d, err := loadDelivery(ctx, r.Pool, id)
		if errors.Is(err, pgx.ErrNoRows) {
			continue // erased with its contact
		}
		if err != nil || d.round == 0 {
			return err // a batch holds one campaign's deliveries: blasts have no rounds
		}
		if err := pgx.BeginFunc(ctx, r.Pool, func(tx pgx.Tx) error {
			return markDoneIfIdle(ctx, tx, d.campaignID, d.contactID, d.round)
		}); err != nil {
			return err
		}
	}
	return nil
}
