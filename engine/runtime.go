package engine

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/peykar/peykar/campaigns"
	"github.com/peykar/peykar/internal/baseservice"
	"github.com/peykar/peykar/tracking"
)

// Config is what the engine's workers need.
type Config struct {
	Pool *pgxpool.Pool
	// Mailer sends the email channel's messages (an *mailer.Mailer).
	Mailer Mailer
	Signer *tracking.Signer
	// BaseURL is the public URL of the tracking endpoints.
	BaseURL string
	// BounceDomain, when set, turns on VERP return paths (bounce+token@domain).
	BounceDomain string
	// RescueAfter is River's RescueStuckJobsAfter: how long before a job of
	// a dead (or very slow) process is retried.
	RescueAfter time.Duration
	// Webhook is how the webhook channel and the webhook rule action reach
	// out: by default the public internet only.
	Webhook WebhookConfig
	Logger  *slog.Logger
	// Clock is the engine's time source: when sends are recorded, when
	// follow-ups, timers and retries are due, the frequency cap's and the
	// rules' windows. Default time.Now; tests set their own. Durations of
	// real work (a launch slice, a chunk's send time, cache lifetimes)
	// stay on the monotonic clock.
	Clock func() time.Time
	// FrequencyCap is the operator's default frequency cap
	// (PEYKAR_FREQUENCY_CAP), for campaigns that set none; nil: none.
	FrequencyCap *campaigns.FrequencyCap
	// Currency is the operator's reporting currency (PEYKAR_CURRENCY),
	// which an A/B test on revenue per recipient compares in when the
	// campaign names none; default campaigns.DefaultCurrency.
	Currency string
	// InboxBatch is the most journey-inbox rows (contact events that may
	// enter triggered campaigns) one drain lets in, in one transaction.
	// Default 1000.
	InboxBatch int
}

// Engine is the runtime: it registers the workers and implements
// campaigns.Runtime for the campaign service.
type Engine struct {
	baseservice.Base
	cfg     Config
	client  *river.Client[pgx.Tx]
	send    *SendWorker
	rules   *Rules
	webhook Webhook
	// triggers are the running triggered campaigns (EventRecorded).
	triggers triggerCache
	// inbox wakes this process's inbox drainer (RunInbox).
	inbox inboxWaker
}

// New returns an engine for cfg.
func New(cfg Config) *Engine {
	base := baseservice.New(cfg.Logger, cfg.Clock)
	hook := Webhook{Client: NewWebhookClient(cfg.Webhook), Logger: cfg.Logger, Clock: cfg.Clock}
	return &Engine{Base: base, cfg: cfg, webhook: hook, inbox: make(inboxWaker, 1), send: &SendWorker{
		Pool: cfg.Pool, Mailer: cfg.Mailer, Signer: cfg.Signer, BaseURL: cfg.BaseURL,
		BounceDomain: cfg.BounceDomain, Base: base, ReclaimAfter: cfg.RescueAfter, Webhook: hook,
		FrequencyCap: cfg.FrequencyCap,
	}, rules: &Rules{Pool: cfg.Pool, Base: base}}
}

// Register adds the engine's workers to workers.
func (e *Engine) Register(workers *river.Workers) {
	river.AddWorker(workers, &LaunchWorker{Pool: e.cfg.Pool, Base: e.Base, Started: e.triggers.invalidate})
	river.AddWorker(workers, e.send)
	messageWorker := &MessageWorker{Send: e.send}
	river.AddWorker(workers, messageWorker)
	river.AddWorker(workers, &MessageBatchWorker{Messages: messageWorker})
	river.AddWorker(workers, &RulesWorker{Rules: e.rules})
	river.AddWorker(workers, &TimerWorker{Rules: e.rules})
	river.AddWorker(workers, &WebhookWorker{Pool: e.cfg.Pool, Webhook: e.webhook})
	river.AddWorker(workers, &SweepWorker{Pool: e.cfg.Pool, Base: e.Base})
	river.AddWorker(workers, &EntryWorker{Engine: e})
	river.AddWorker(workers, &ExitWorker{Engine: e})
	river.AddWorker(workers, &SegmentSyncWorker{Engine: e})
	river.AddWorker(workers, &ContactCheckWorker{Engine: e})
	river.AddWorker(workers, &EndJourneysWorker{Engine: e})
	river.AddWorker(workers, &DecideABTestsWorker{Engine: e})
	river.AddWorker(workers, &RemainderWorker{Engine: e})
}

// PeriodicJobs are the engine's scheduled chores.
func (e *Engine) PeriodicJobs() []*river.PeriodicJob {
	return []*river.PeriodicJob{
		river.NewPeriodicJob(river.PeriodicInterval(5*time.Minute), func() (river.JobArgs, *river.InsertOpts) {
			return SweepArgs{}, nil
		}, nil),
		river.NewPeriodicJob(river.PeriodicInterval(SegmentSyncInterval), func() (river.JobArgs, *river.InsertOpts) {
			return SegmentSyncArgs{}, nil
		}, nil),
		river.NewPeriodicJob(river.PeriodicInterval(endJourneysEvery), func() (river.JobArgs, *river.InsertOpts) {
			return EndJourneysArgs{}, nil
		}, nil),
		river.NewPeriodicJob(river.PeriodicInterval(decideABTestsEvery), func() (river.JobArgs, *river.InsertOpts) {
			return DecideABTestsArgs{}, nil
		}, nil),
	}
}

// SetClient gives the engine the River client it enqueues with (the client
// is built after the workers are registered).
func (e *Engine) SetClient(c *river.Client[pgx.Tx]) { e.client = c }

// LaunchTx implements campaigns.Runtime.
func (e *Engine) LaunchTx(ctx context.Context, tx pgx.Tx, c campaigns.Campaign) error {
	opts := &river.InsertOpts{}
	if c.Status == campaigns.StatusScheduled && c.ScheduledAt != nil {
		opts.ScheduledAt = *c.ScheduledAt
	}
	if _, err := e.client.InsertTx(ctx, tx, LaunchArgs{CampaignID: c.ID}, opts); err != nil {
		return fmt.Errorf("enqueue launch: %w", err)
	}
	e.triggers.invalidate()
	return nil
}

// CancelTx implements campaigns.Runtime: queued deliveries are skipped at
// once; batches being sent stop at their next chunk; a triggered
// campaign's active entries exit with reason "cancelled".
func (e *Engine) CancelTx(ctx context.Context, tx pgx.Tx, campaignID int64) error {
	e.triggers.invalidate()
	if err := exitAll(ctx, tx, campaignID, ExitCancelled, e.Now()); err != nil {
		return err
	}
	return skipQueued(ctx, tx, campaignID, nil, "campaign cancelled", e.Now())
}

// Progress implements campaigns.Runtime.
func (e *Engine) Progress(ctx context.Context, campaignID int64) (campaigns.Progress, error) {
	return progress(ctx, e.cfg.Pool, campaignID, e.Now())
}
