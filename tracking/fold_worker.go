package tracking

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// FoldArgs is the periodic River job that folds every launched campaign's
// old minute rollups into hours (FoldCampaign). At most one is waiting or
// running at a time.
type FoldArgs struct{}

// Kind implements river.JobArgs.
func (FoldArgs) Kind() string { return "fold_rollups" }

// InsertOpts puts the job on the default queue, unique while pending,
// available, scheduled, retryable or running.
func (FoldArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: river.QueueDefault, MaxAttempts: 3, UniqueOpts: river.UniqueOpts{
		ByState: []rivertype.JobState{
			rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning,
			rivertype.JobStateRetryable, rivertype.JobStateScheduled,
		},
	}}
}

// PeriodicFold is the periodic job to register with River's client: every
// FoldInterval, and once at start.
func PeriodicFold() *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(FoldInterval), func() (river.JobArgs, *river.InsertOpts) {
		return FoldArgs{}, nil
	}, &river.PeriodicJobOpts{RunOnStart: true})
}

// FoldWorker works FoldArgs.
type FoldWorker struct {
	river.WorkerDefaults[FoldArgs]
	Pool   *pgxpool.Pool
	Logger *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Work implements river.Worker: it folds each campaign that has minute
// rows to fold, each in its own statement. A campaign that fails (a
// deadlock with a late write, say) is logged and left for the next run;
// reports stay exact either way. The error names the campaigns that
// failed, so River records the run as failed.
func (w *FoldWorker) Work(ctx context.Context, _ *river.Job[FoldArgs]) error {
	n, err := FoldAll(ctx, w.Pool, w.now(), w.Logger)
	if w.Logger != nil {
		w.Logger.InfoContext(ctx, "rollups folded", slog.Int64("rows", n))
	}
	return err
}

func (w *FoldWorker) now() time.Time {
	if w.Now != nil {
		return w.Now()
	}
	return time.Now()
}

// FoldAll folds every campaign's rollups as they should be at now
// (FoldCampaign) and returns how many minute rows were folded. Campaigns
// that fail are logged and named in the error; the others are folded.
func FoldAll(ctx context.Context, db DBTX, now time.Time, logger *slog.Logger) (int64, error) {
	until := now.Add(-FoldAge).UTC().Truncate(time.Hour)
	rows, err := db.Query(ctx, query("foldable_campaigns"), until)
	if err != nil {
		return 0, fmt.Errorf("list campaigns to fold: %w", err)
	}
	type campaign struct {
		id       int64
		launched time.Time
	}
	cs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (campaign, error) {
		var c campaign
		err := r.Scan(&c.id, &c.launched)
		return c, err
	})
	if err != nil {
		return 0, fmt.Errorf("list campaigns to fold: %w", err)
	}
	var total int64
	var errs []error
	for _, c := range cs {
		n, err := FoldCampaign(ctx, db, c.id, c.launched, now)
		if err != nil {
			if logger != nil {
				logger.WarnContext(ctx, "fold rollups", slog.Int64("campaign_id", c.id), slog.Any("error", err))
			}
			errs = append(errs, err)
			continue
		}
		total += n
	}
	return total, errors.Join(errs...)
}
