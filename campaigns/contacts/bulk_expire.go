package contacts

import (
	"context"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
)

// BulkExpireArgs is the periodic River job that deletes old exports' files.
type BulkExpireArgs struct{}

// Kind implements river.JobArgs.
func (BulkExpireArgs) Kind() string { return "contacts_bulk_expire" }

// InsertOpts puts the job on the default queue.
func (BulkExpireArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: river.QueueDefault}
}

// BulkExpireWorker deletes the files of exports finished more than
// ExportRetention ago (ExpireBulkExports).
type BulkExpireWorker struct {
	river.WorkerDefaults[BulkExpireArgs]
	Pool *pgxpool.Pool
	// Now is the clock; nil means time.Now.
	Now    func() time.Time
	Logger *slog.Logger
}

// Work implements river.Worker.
func (w *BulkExpireWorker) Work(ctx context.Context, _ *river.Job[BulkExpireArgs]) error {
	now := time.Now
	if w.Now != nil {
		now = w.Now
	}
	n, err := ExpireBulkExports(ctx, w.Pool, now().Add(-ExportRetention))
	if err != nil {
		return err
	}
	if n > 0 && w.Logger != nil {
		w.Logger.InfoContext(ctx, "expired bulk exports", slog.Int64("exports", n))
	}
	return nil
}
