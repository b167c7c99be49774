package outbox

import (
	"context"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
)

// PruneArgs is the periodic job that keeps the outbox from growing forever.
type PruneArgs struct{}

// Kind implements river.JobArgs.
func (PruneArgs) Kind() string { return "outbox_prune" }

// InsertOpts puts the job on the default queue.
func (PruneArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{Queue: river.QueueDefault} }

// PruneWorker deletes caught messages beyond the newest Keep that are older
// than MaxAge.
type PruneWorker struct {
	river.WorkerDefaults[PruneArgs]
	Store  Store
	Keep   int
	MaxAge time.Duration
	Logger *slog.Logger
}

// Work implements river.Worker.
func (w *PruneWorker) Work(ctx context.Context, _ *river.Job[PruneArgs]) error {
	n, err := w.Store.Prune(ctx, w.Keep, w.MaxAge)
	if err != nil {
		return err
	}
	if n > 0 {
		w.Logger.InfoContext(ctx, "pruned outbox", slog.Int64("deleted", n))
	}
	return nil
}
