package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"

	"github.com/peykar/peykar/campaigns/analytics"
	"github.com/peykar/peykar/campaigns/contacts"
	"github.com/peykar/peykar/campaigns/messages"
	"github.com/peykar/peykar/campaigns/segments"
	"github.com/peykar/peykar/engine"
	"github.com/peykar/peykar/engine/mailer"
	"github.com/peykar/peykar/internal/baseservice"
	"github.com/peykar/peykar/internal/outbox"
	"github.com/peykar/peykar/tracking"
)

type pgxTx = pgx.Tx

// riverStopTimeout is how long running jobs get to finish on shutdown before
// they are cancelled (and go back to the queue to be retried).
const riverStopTimeout = 20 * time.Second

func (m *Main) startRiver(ctx context.Context) error {
	workers := river.NewWorkers()
	river.AddWorker(workers, &outbox.PruneWorker{Store: outbox.Store{Pool: m.pool}, Keep: 10000, MaxAge: 7 * 24 * time.Hour, Logger: m.Logger})
	river.AddWorker(workers, &contacts.ImportWorker{Pool: m.pool, Logger: m.Logger})
	river.AddWorker(workers, &contacts.BulkWorker{Pool: m.pool, Segments: segments.Filter, Rules: segmentRule,
		Events: tracking.EventEraser{}, MaxRun: m.Config.jobTimeout / 2, Logger: m.Logger})
	river.AddWorker(workers, &contacts.BulkExpireWorker{Pool: m.pool, Logger: m.Logger})
	river.AddWorker(workers, &analytics.RecomputeWorker{Pool: m.pool, Config: analytics.Config{Currency: m.Config.Currency}, Logger: m.Logger, MaxRun: m.Config.jobTimeout})
	river.AddWorker(workers, &tracking.FoldWorker{Pool: m.pool, Logger: m.Logger})
	river.AddWorker(workers, &messages.ExpireKeysWorker{Pool: m.pool, Logger: m.Logger})
	river.AddWorker(workers, &tracking.PartitionWorker{Pool: m.pool, Retention: m.Config.eventsRetention, Logger: m.Logger})

	keys := tracking.Keys{Current: []byte(m.secret)}
	if m.Config.PreviousSecret != "" {
		keys.Previous = []byte(m.Config.PreviousSecret)
	}
	m.signer = tracking.NewSigner(keys)
	smtpOut, err := mailer.New(m.smtp, baseservice.New(m.Logger, time.Now))
	if err != nil {
		return fmt.Errorf("mailer: %w", err)
	}
	m.mailer = smtpOut
	m.closers = append(m.closers, func(context.Context) error { smtpOut.Close(); return nil })
	m.engine = engine.New(engine.Config{
		Pool: m.pool, Mailer: smtpOut, Clock: time.Now, Signer: m.signer, BaseURL: m.Config.BaseURL,
		BounceDomain: m.Config.BounceDomain, Logger: m.Logger, RescueAfter: m.Config.rescueAfter,
		Webhook:      engine.WebhookConfig{Policy: m.Config.webhooks},
		FrequencyCap: m.Config.frequencyCap,
		Currency:     m.Config.Currency,
	})
	m.engine.Register(workers)
	m.registerSendMetrics()
	m.addFormWorker(workers)
	if allow := m.Config.webhooks.Allow; len(allow) > 0 {
		m.Logger.Info("webhooks may reach these non-public networks (PEYKAR_WEBHOOK_ALLOW_NETWORKS)", slog.Any("networks", allow))
	}

	procID := m.procID
	proc := &engine.Process{Pool: m.pool, ID: procID, Mode: m.Config.Mode, Logger: m.Logger}
	cfg := &river.Config{
		ID:                   procID,
		Queues:               engine.QueueConfig(m.smtp.Pool * 2),
		Workers:              workers,
		Logger:               m.riverLogger(),
		JobTimeout:           m.Config.jobTimeout,
		RescueStuckJobsAfter: m.Config.rescueAfter,
		Middleware:           []rivertype.Middleware{&engine.ContainPanics{Logger: m.Logger}, proc},
		PeriodicJobs: append([]*river.PeriodicJob{
			river.NewPeriodicJob(river.PeriodicInterval(time.Hour), func() (river.JobArgs, *river.InsertOpts) {
				return outbox.PruneArgs{}, nil
			}, &river.PeriodicJobOpts{RunOnStart: true}),
			analytics.PeriodicRecompute(),
			river.NewPeriodicJob(river.PeriodicInterval(time.Hour), func() (river.JobArgs, *river.InsertOpts) {
				return contacts.BulkExpireArgs{}, nil
			}, nil),
			tracking.PeriodicFold(),
			messages.PeriodicExpireKeys(),
			tracking.PeriodicPartitions(),
		}, m.engine.PeriodicJobs()...),
	}
	if m.Config.Mode == "web" {
		// Insert-only: this process enqueues and never works jobs.
		cfg.Queues, cfg.Workers, cfg.PeriodicJobs = nil, nil, nil
	}
	client, err := river.NewClient(riverpgxv5.New(m.pool), cfg)
	if err != nil {
		return fmt.Errorf("river: %w", err)
	}
	m.river = client
	m.engine.SetClient(client)
	if err := m.startProcess(ctx, proc); err != nil {
		return err
	}
	if m.Config.Mode == "web" {
		return nil
	}
	events, unsubscribe := client.Subscribe(river.EventKindJobCompleted, river.EventKindJobFailed,
		river.EventKindJobCancelled, river.EventKindJobSnoozed)
	m.registry.MustRegister(newJobMetrics(events))
	if err := client.Start(ctx); err != nil {
		unsubscribe()
		return fmt.Errorf("river: start: %w", err)
	}
	// The send fold stops after River (closers run in reverse): the last
	// flushes' outcomes are folded by this process when it can, else by
	// the next one to run.
	stopFold := m.engine.StartSendFold(ctx)
	m.closers = append(m.closers, func(context.Context) error { stopFold(); return nil })
	m.closers = append(m.closers, func(ctx context.Context) error {
		defer unsubscribe()
		stopCtx, cancel := context.WithTimeout(ctx, riverStopTimeout)
		defer cancel()
		if err := client.Stop(stopCtx); err != nil {
			m.Logger.Warn("jobs did not finish in time; cancelling them (they will be retried)", "error", err)
			return client.StopAndCancel(ctx)
		}
		return nil
	})
	stopInbox := m.engine.StartInbox(ctx)
	m.closers = append(m.closers, func(context.Context) error { stopInbox(); return nil })
	return nil
}

// jobMetrics turns River's job events into Prometheus counters and
// latency histograms.
type jobMetrics struct {
	total    *prometheus.CounterVec
	duration *prometheus.HistogramVec
	wait     *prometheus.HistogramVec
}

func newJobMetrics(events <-chan *river.Event) *jobMetrics {
	jm := &jobMetrics{
		total: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "peykar_jobs_total", Help: "River jobs worked, by kind, queue and outcome.",
		}, []string{"kind", "queue", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "peykar_job_run_seconds", Help: "Time River jobs spent running.", Buckets: prometheus.ExponentialBuckets(0.001, 4, 10),
		}, []string{"kind"}),
		wait: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "peykar_job_queue_wait_seconds", Help: "Time River jobs waited between becoming available and running.", Buckets: prometheus.ExponentialBuckets(0.001, 4, 10),
		}, []string{"kind"}),
	}
	go func() {
		for ev := range events {
			if ev.Job == nil {
				continue
			}
			jm.total.WithLabelValues(ev.Job.Kind, ev.Job.Queue, string(ev.Kind)).Inc()
			if ev.JobStats != nil {
				jm.duration.WithLabelValues(ev.Job.Kind).Observe(ev.JobStats.RunDuration.Seconds())
				jm.wait.WithLabelValues(ev.Job.Kind).Observe(ev.JobStats.QueueWaitDuration.Seconds())
			}
		}
	}()
	return jm
}

func (jm *jobMetrics) Describe(ch chan<- *prometheus.Desc) {
	jm.total.Describe(ch)
	jm.duration.Describe(ch)
	jm.wait.Describe(ch)
}

func (jm *jobMetrics) Collect(ch chan<- prometheus.Metric) {
	jm.total.Collect(ch)
	jm.duration.Collect(ch)
	jm.wait.Collect(ch)
}

// riverLogger quiets River's periodic info chatter unless debugging.
func (m *Main) riverLogger() *slog.Logger {
	if m.Config.LogLevel == "debug" {
		return m.Logger
	}
	return slog.New(minLevel{m.Logger.Handler(), slog.LevelWarn})
}

// minLevel is a slog.Handler that drops records below a level.
type minLevel struct {
	slog.Handler
	min slog.Level
}

func (h minLevel) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

func (h minLevel) WithAttrs(as []slog.Attr) slog.Handler {
	return minLevel{h.Handler.WithAttrs(as), h.min}
}
func (h minLevel) WithGroup(n string) slog.Handler { return minLevel{h.Handler.WithGroup(n), h.min} }
