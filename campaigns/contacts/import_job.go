package contacts

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/peykar/peykar/internal/errs"
)

// Import kinds: what an import's file holds.
const (
	ImportContacts = "contacts" // contacts (POST /contacts/import)
	ImportEvents   = "events"   // historical contact events (POST /events/import)
)

// Import statuses.
const (
	ImportRunning  = "running"
	ImportFinished = "finished"
	ImportFailed   = "failed"
)

// ImportArgs is the River job that runs an uploaded CSV import.
type ImportArgs struct {
	ImportID int64 `json:"import_id"`
}

// Kind implements river.JobArgs.
func (ImportArgs) Kind() string { return "contacts_import" }

// InsertOpts puts imports on the default queue with few attempts: a retry
// starts the file over, which is safe (upserts) but slow.
func (ImportArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: river.QueueDefault, MaxAttempts: 3}
}

// ImportWorker runs import jobs: it streams the uploaded file from
// import_chunks through ImportCSV, records progress after every batch, and
// deletes the file when done.
type ImportWorker struct {
	river.WorkerDefaults[ImportArgs]
	Pool   *pgxpool.Pool
	Logger *slog.Logger
}

// Work implements river.Worker.
func (w *ImportWorker) Work(ctx context.Context, job *river.Job[ImportArgs]) error {
	id := job.Args.ImportID
	var opts ImportOptions
	var kind string
	var createContacts bool
	err := w.Pool.QueryRow(ctx, query("start_import"), id).Scan(&opts.Mode, &opts.Delimiter, &opts.TagSeparator, &kind, &createContacts)
	if errors.Is(err, pgx.ErrNoRows) {
		return river.JobCancel(fmt.Errorf("import %d does not exist", id))
	}
	if err != nil {
		return fmt.Errorf("import %d: start: %w", id, err)
	}
	start := time.Now()
	progress := func(r Result) {
		if perr := saveImport(ctx, w.Pool, id, ImportRunning, r, ""); perr != nil {
			w.logger().WarnContext(ctx, "import progress not saved", slog.Int64("import_id", id), slog.Any("error", perr))
		}
	}
	file := &chunkReader{ctx: ctx, db: w.Pool, id: id}
	var res Result
	if kind == ImportEvents {
		res, err = ImportEventsCSV(ctx, w.Pool, file,
			EventImportOptions{Delimiter: opts.Delimiter, CreateContacts: createContacts, ImportID: id}, progress)
	} else {
		res, err = ImportCSVWith(ctx, w.Pool, file, opts, progress)
	}
	if err != nil {
		if errs.Is(err, errs.Invalid) || job.Attempt >= job.MaxAttempts {
			msg := "internal error"
			if errs.Is(err, errs.Invalid) {
				msg = userMessage(err)
			}
			w.logger().WarnContext(ctx, "import failed", slog.Int64("import_id", id), slog.Any("error", err))
			if serr := w.finish(ctx, id, ImportFailed, res, msg); serr != nil {
				return serr
			}
			return river.JobCancel(err)
		}
		return err
	}
	w.logger().InfoContext(ctx, "import finished", slog.Int64("import_id", id), slog.Int64("total", res.Total),
		slog.Int64("inserted", res.Inserted), slog.Int64("updated", res.Updated), slog.Int64("rejected", res.RejectedCount),
		slog.Duration("took", time.Since(start)))
	return w.finish(ctx, id, ImportFinished, res, "")
}

// finish records the outcome and drops the uploaded file, in one transaction.
func (w *ImportWorker) finish(ctx context.Context, id int64, status string, res Result, msg string) error {
	return pgx.BeginFunc(ctx, w.Pool, func(tx pgx.Tx) error {
		if err := saveImport(ctx, tx, id, status, res, msg); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, query("delete_import_chunks"), id); err != nil {
			return fmt.Errorf("import %d: drop file: %w", id, err)
		}
		return nil
	})
}

func (w *ImportWorker) logger() *slog.Logger {
	if w.Logger == nil {
		return slog.Default()
	}
	return w.Logger
}

func saveImport(ctx context.Context, db DBTX, id int64, status string, r Result, msg string) error {
	rejected, err := json.Marshal(nonNil(r.Rejected))
	if err != nil {
		return err
	}
	dups, err := json.Marshal(nonNil(r.Duplicates))
	if err != nil {
		return err
	}
	_, err = db.Exec(ctx, query("save_import"), id, status, r.Total, r.Inserted, r.Updated, r.Skipped, r.Merged, r.RejectedCount,
		string(rejected), string(dups), msg)
	if err != nil {
		return fmt.Errorf("import %d: save progress: %w", id, err)
	}
	return nil
}

func nonNil[T any](xs []T) []T {
	if xs == nil {
		return []T{}
	}
	return xs
}

// chunkReader streams an uploaded file back from import_chunks, one chunk
// in memory at a time.
type chunkReader struct {
	ctx  context.Context
	db   DBTX
	id   int64
	seq  int
	buf  []byte
	done bool
}

func (r *chunkReader) Read(p []byte) (int, error) {
	for len(r.buf) == 0 {
		if r.done {
			return 0, io.EOF
		}
		var data []byte
		err := r.db.QueryRow(r.ctx, query("read_import_chunk"), r.id, r.seq).Scan(&data)
		if errors.Is(err, pgx.ErrNoRows) {
			r.done = true
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("read upload chunk %d: %w", r.seq, err)
		}
		r.seq++
		r.buf = data
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}
