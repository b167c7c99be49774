package engine

import (
	"context"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/peykar/peykar/campaigns"
)

// EndJourneysArgs is the periodic job that finishes triggered campaigns
// whose ends_at has come.
type EndJourneysArgs struct{}

// Kind implements river.JobArgs.
func (EndJourneysArgs) Kind() string { return "end_journeys" }

// InsertOpts puts it on the default queue, one at a time.
func (EndJourneysArgs) InsertOpts() river.InsertOpts { return onceAtATime(QueueDefault) }

// endJourneysEvery is how often ends_at is looked at; Enter refuses
// entries from ends_at on whatever the status says.
const endJourneysEvery = time.Minute

// EndJourneysWorker works EndJourneysArgs.
type EndJourneysWorker struct {
	river.WorkerDefaults[EndJourneysArgs]
	Engine *Engine
}

// Work finishes the campaigns whose ends_at has passed on the engine's
// clock.
func (w *EndJourneysWorker) Work(ctx context.Context, _ *river.Job[EndJourneysArgs]) error {
	var ids []int64
	err := pgx.BeginFunc(ctx, w.Engine.cfg.Pool, func(tx pgx.Tx) (err error) {
		ids, err = campaigns.FinishEnded(ctx, tx, w.Engine.Now())
		return err
	})
	if err != nil || len(ids) == 0 {
		return err
	}
	w.Engine.triggers.invalidate()
	for _, id := range ids {
		w.Engine.Logger.InfoContext(ctx, "journey ended: ends_at reached", slog.Int64("campaign_id", id))
	}
	return nil
}
