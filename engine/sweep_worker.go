package engine

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
)

// SweepArgs is the periodic safety net that finds deliveries no send job
// will ever pick up again (their job was discarded after exhausting its
// attempts, cancelled, or cleaned away) and gives them a new job, so that
// no recipient of a running campaign is silently skipped.
type SweepArgs struct{}

// Kind implements river.JobArgs.
func (SweepArgs) Kind() string { return "sweep_deliveries" }

// InsertOpts puts the sweep on the default queue.
func (SweepArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{Queue: QueueDefault} }

// SweepWorker works SweepArgs.
type SweepWorker struct {
	river.WorkerDefaults[SweepArgs]
	Pool   *pgxpool.Pool
	Logger *slog.Logger
}

// Work re-enqueues orphaned deliveries, one send job per campaign batch.
func (w *SweepWorker) Work(ctx context.Context, _ *river.Job[SweepArgs]) error {
	client := river.ClientFromContext[pgx.Tx](ctx)
	return pgx.BeginFunc(ctx, w.Pool, func(tx pgx.Tx) error {
		// Deliveries of send jobs that ended without sending them (discarded
		// after their last attempt, or cancelled) and that no other job has
		// taken since. claimed_by = 0 marks a delivery handed to a fresh job
		// here, so the next sweep leaves it alone.
		rows, err := tx.Query(ctx, `
			WITH dead AS (
				SELECT j.id AS job_id, (j.args->>'campaign_id')::bigint AS campaign_id,
					jsonb_array_elements_text(j.args->'delivery_ids')::bigint AS delivery_id
				FROM river_job j
				WHERE j.kind = 'send' AND j.state IN ('discarded', 'cancelled') AND j.finalized_at > now() - interval '8 days'
			)
			UPDATE deliveries d SET status = 'queued', claimed_by = 0
			FROM dead, campaigns c
			WHERE d.id = dead.delivery_id AND c.id = d.campaign_id AND c.status IN ('running', 'paused', 'finished')
				AND d.status IN ('queued', 'sending') AND (d.claimed_by IS NULL OR d.claimed_by = dead.job_id)
			RETURNING d.campaign_id, d.id`)
		if err != nil {
			return fmt.Errorf("sweep deliveries: %w", err)
		}
		byCampaign := map[int64][]int64{}
		n := 0
		for rows.Next() {
			var cid, id int64
			if err := rows.Scan(&cid, &id); err != nil {
				rows.Close()
				return err
			}
			byCampaign[cid] = append(byCampaign[cid], id)
			n++
		}
		rows.Close()
		if err := rows.Err(); err != nil {
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
