package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/peykar/peykar/campaigns/deliveries"
	"github.com/peykar/peykar/campaigns/messages"
	"github.com/peykar/peykar/internal/baseservice"
)

// SweepArgs is the periodic safety net that finds deliveries no send or
// message job will ever pick up again (their job was discarded after
// exhausting its attempts, cancelled, or cleaned away) and gives them a new
// job, so that no recipient of a running campaign and no transactional
// message is silently skipped.
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
		// Transactional messages the same way: a message job discarded
		// after its last attempt (a database error each time, say) would
		// otherwise leave its message queued for good.
		orphans, err := deliveries.RequeueOrphanedMessages(ctx, tx)
		if err != nil {
			return err
		}
		if len(orphans) == 0 {
			return nil
		}
		params := make([]river.InsertManyParams, len(orphans))
		for i, raw := range orphans {
			var a messages.SendArgs
			if err := json.Unmarshal(raw, &a); err != nil {
				return fmt.Errorf("sweep messages: job arguments %s: %w", raw, err)
			}
			params[i] = river.InsertManyParams{Args: a}
		}
		if _, err := client.InsertManyTx(ctx, tx, params); err != nil {
			return fmt.Errorf("sweep messages: enqueue: %w", err)
		}
		w.Logger.WarnContext(ctx, "re-enqueued orphaned messages", slog.Int("messages", len(orphans)))
		return nil
	})
}
