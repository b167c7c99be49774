package tracking

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// PartitionInterval is how often the partition upkeep runs. Months are made
// PartitionAhead months early, so a run that fails (a lock it could not get
// in time) has months of retries before a month is missing; and a missing
// month loses nothing either, its rows wait in the default partition.
const PartitionInterval = 6 * time.Hour

// PartitionArgs is the periodic River job that keeps events' months:
// EnsurePartitions, then DropExpiredPartitions. River's periodic jobs are
// inserted by the leader only, and the job is unique while pending or
// running, so it runs once across processes.
type PartitionArgs struct{}

// Kind implements river.JobArgs.
func (PartitionArgs) Kind() string { return "events_partitions" }

// InsertOpts puts the job on the default queue, unique while available,
// pending, scheduled, retryable or running.
func (PartitionArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: river.QueueDefault, MaxAttempts: 3, UniqueOpts: river.UniqueOpts{
		ByState: []rivertype.JobState{
			rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning,
			rivertype.JobStateRetryable, rivertype.JobStateScheduled,
		},
	}}
}

// PeriodicPartitions is the periodic job to register with River's client:
// every PartitionInterval, and once at start.
func PeriodicPartitions() *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(PartitionInterval), func() (river.JobArgs, *river.InsertOpts) {
		return PartitionArgs{}, nil
	}, &river.PeriodicJobOpts{RunOnStart: true})
}

// PartitionWorker works PartitionArgs.
type PartitionWorker struct {
	river.WorkerDefaults[PartitionArgs]
	Pool *pgxpool.Pool
	// Retention is how long events are kept (PEYKAR_EVENTS_RETENTION);
	// zero keeps them forever.
	Retention time.Duration
	Logger    *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Work implements river.Worker: the months ahead first (so a failing drop
// never leaves the writer without its month), then the retention.
func (w *PartitionWorker) Work(ctx context.Context, _ *river.Job[PartitionArgs]) error {
	now := time.Now()
	if w.Now != nil {
		now = w.Now()
	}
	logger := w.Logger
	if logger == nil {
		logger = slog.Default()
	}
	created, errEnsure := EnsurePartitions(ctx, w.Pool, now, PartitionAhead)
	if len(created) > 0 {
		logger.InfoContext(ctx, "event partitions created", slog.Any("partitions", created))
	}
	start := time.Now()
	dropped, errDrop := DropExpiredPartitions(ctx, w.Pool, now, w.Retention)
	if len(dropped.Partitions) > 0 || dropped.DefaultRows > 0 {
		logger.InfoContext(ctx, "event history past its retention dropped", slog.Any("partitions", dropped.Partitions),
			slog.Int64("default_rows", dropped.DefaultRows), slog.Duration("retention", w.Retention),
			slog.Duration("took", time.Since(start)))
	}
	return errors.Join(errEnsure, errDrop)
}
