package analytics

import (
	"context"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// RecomputeInterval is how often the periodic recompute runs.
const RecomputeInterval = time.Hour

// RecomputeArgs is the River job that recomputes every score. At most one
// is waiting or running at a time.
type RecomputeArgs struct{}

// Kind implements river.JobArgs.
func (RecomputeArgs) Kind() string { return "analytics_recompute" }

// InsertOpts puts the job on the default queue, unique while pending,
// available, scheduled, retryable or running.
func (RecomputeArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: river.QueueDefault, MaxAttempts: 3, UniqueOpts: river.UniqueOpts{
		ByState: []rivertype.JobState{
			rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning,
			rivertype.JobStateRetryable, rivertype.JobStateScheduled,
		},
	}}
}

// PeriodicRecompute is the periodic job to register with River's client.
func PeriodicRecompute() *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(RecomputeInterval), func() (river.JobArgs, *river.InsertOpts) {
		return RecomputeArgs{}, nil
	}, &river.PeriodicJobOpts{RunOnStart: true})
}

// RecomputeWorker works RecomputeArgs.
type RecomputeWorker struct {
	river.WorkerDefaults[RecomputeArgs]
	Pool   *pgxpool.Pool
	Config Config
	Logger *slog.Logger
	// MaxRun bounds one recompute (default 30 minutes). Keep it under
	// River's RescueStuckJobsAfter so a long run is not rescued meanwhile.
	MaxRun time.Duration
}

// Timeout gives a recompute of a large base time to finish (the client's
// default job timeout is for short jobs).
func (w *RecomputeWorker) Timeout(*river.Job[RecomputeArgs]) time.Duration {
	if w.MaxRun > 0 {
		return w.MaxRun
	}
	return 30 * time.Minute
}

// Work implements river.Worker.
func (w *RecomputeWorker) Work(ctx context.Context, _ *river.Job[RecomputeArgs]) error {
	cfg := w.Config
	cfg.Now = time.Time{} // each run scores as of its own start
	res, err := Recompute(ctx, w.Pool, cfg, w.Logger)
	if err != nil {
		return err
	}
	if w.Logger != nil {
		w.Logger.InfoContext(ctx, "analytics recomputed", slog.Int64("scored", res.Scored),
			slog.Int("clusters", len(res.Clusters)), slog.Int("anomalies", len(res.Anomalies)))
	}
	return nil
}
