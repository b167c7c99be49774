package engine

import (
	"context"
	"log/slog"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/peykar/peykar/campaigns/deliveries"
	"github.com/peykar/peykar/internal/baseservice"
)

// SweepArgs is the periodic safety net that finds deliveries no send job
// will ever pick up again (their job was discarded after exhausting its
// attempts, cancelled, or cleaned away) and gives them a new job, so that
// no recipient of a running campaign is silently skipped.
type SweepArgs struct{}

// Kind implements river.JobArgs.
func (SweepArgs) Kind() string { return "sweep_deliveries" }

// InsertOpts puts the sweep on the default queue, one at a time.
func (SweepArgs) InsertOpts() river.InsertOpts { return onceAtATime(QueueDefault) }

// SweepWorker works SweepArgs.
type SweepWorker struct {
	river.WorkerDefaults[SweepArgs]
	Pool *pgxpool.Pool
	baseservice.Base
}

// Work re-enqueues orphaned deliveries, one send job per campaign batch.
func (w *SweepWorker) Work(ctx context.Context, _ *river.Job[SweepArgs]) error {
	client := river.ClientFromContext[pgx.Tx](ctx)
	return pgx.BeginFunc(ctx, w.Pool, func(tx pgx.Tx) error {
		// Deliveries of send jobs that ended without sending them
		// (discarded after their last attempt, or cancelled), queued again
		// and handed to fresh jobs in the same transaction.
		byCampaign, n, err := deliveries.RequeueOrphaned(ctx, tx)
		if err != nil {
			return err
		}
		for cid, ids := range byCampaign {
			if err := enqueueSends(ctx, tx, client, cid, ids, sendBatchSize(0)); err != nil {
				return err
			}
		}
		if n > 0 {
			w.Logger.WarnContext(ctx, "re-enqueued orphaned deliveries", slog.Int("deliveries", n), slog.Int("campaigns", len(byCampaign)))
		}
		return nil
	})
}
