package contacts

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/peykar/peykar/internal/errs"
)

// RuleCompiler compiles a segment rule for POST /contacts/bulk's "rule"
// selector; a bad rule gives errs.Invalid with its position
// (segments.CompileSegment, adapted, is one).
type RuleCompiler func(rule string) (SegmentFilter, error)

// BulkArgs is the River job that runs a bulk action.
type BulkArgs struct {
	BulkID int64 `json:"bulk_id"`
}

// Kind implements river.JobArgs.
func (BulkArgs) Kind() string { return "contacts_bulk" }

// InsertOpts: a retry resumes after the last committed batch, so retries
// are cheap and safe.
func (BulkArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: river.QueueDefault, MaxAttempts: 10}
}

// DefaultBulkBatch is how many contacts a bulk batch handles in one
// transaction.
const DefaultBulkBatch = 500

// BulkWorker runs bulk jobs: it walks the selection in keyset batches and,
// per batch and in one transaction, applies the action, stores the
// export's rows and advances the job's cursor and counts. A crash loses at
// most the batch in flight, which the retried job redoes from the cursor:
// each contact is done once.
type BulkWorker struct {
	river.WorkerDefaults[BulkArgs]
	Pool *pgxpool.Pool
	// Segments loads a filter's stored segment; Rules compiles a rule.
	Segments SegmentLoader
	Rules    RuleCompiler
	// Events clears an erased contact's tracking events (required for erase).
	Events EventEraser
	// BatchSize is the number of contacts per batch. Default DefaultBulkBatch.
	BatchSize int
	// MaxRun bounds one run of a job: past it the job snoozes and the next
	// run resumes from its cursor, so a long job never meets River's job
	// timeout (keep MaxRun under it). Default one minute.
	MaxRun time.Duration
	Logger *slog.Logger
}

// Work implements river.Worker.
func (w *BulkWorker) Work(ctx context.Context, job *river.Job[BulkArgs]) error {
	err := w.Run(ctx, job.Args.BulkID)
	if errs.Is(err, errs.NotFound) || errs.Is(err, errs.Invalid) {
		return river.JobCancel(err)
	}
	return err
}

// Run runs (or resumes) bulk job id to its end, or until MaxRun has passed
// (then it returns river.JobSnooze). A selection that no longer
// compiles (its segment was deleted) fails the job with that message.
func (w *BulkWorker) Run(ctx context.Context, id int64) error {
	j, err := GetBulkJob(ctx, w.Pool, id)
	if err != nil {
		return err
	}
	if j.Status == BulkFinished || j.Status == BulkFailed {
		return nil
	}
	q, err := w.selection(ctx, j.selector)
	if err == nil && j.Action == BulkErase && w.Events == nil {
		err = ErrNoEventEraser
	}
	if err != nil {
		return w.fail(ctx, id, err)
	}
	if err := w.start(ctx, j, q); err != nil {
		return err
	}
	size, maxRun := w.BatchSize, w.MaxRun
	if size <= 0 {
		size = DefaultBulkBatch
	}
	if maxRun <= 0 {
		maxRun = time.Minute
	}
	started := time.Now()
	for {
		end, err := w.batch(ctx, id, q, j.selector.IDs, size)
		if err != nil {
			return err
		}
		if end {
			break
		}
		if time.Since(started) > maxRun {
			return river.JobSnooze(time.Millisecond)
		}
	}
	if _, err := w.Pool.Exec(ctx, query("finish_bulk_job"), id, BulkFinished, ""); err != nil {
		return fmt.Errorf("bulk job %d: finish: %w", id, err)
	}
	w.logger().InfoContext(ctx, "bulk job finished", slog.Int64("bulk_id", id), slog.String("action", j.Action))
	return nil
}

// selection turns a stored selector into the contact list's query (nil for
// an ids selector).
func (w *BulkWorker) selection(ctx context.Context, sel bulkSelector) (*ListQuery, error) {
	switch {
	case sel.IDs != nil:
		return nil, nil
	case sel.Rule != "":
		if w.Rules == nil {
			return nil, errs.Field("rule", "rules are not available here")
		}
		f, err := w.Rules(sel.Rule)
		if err != nil {
			return nil, err
		}
		return &ListQuery{Segment: f}, nil
	case sel.Filter != nil:
		q := &ListQuery{Q: sel.Filter.Q}
		if sel.Filter.SegmentID > 0 {
			if w.Segments == nil {
				return nil, errs.Field("filter.segment_id", "segments are not available here")
			}
			f, err := w.Segments(ctx, w.Pool, sel.Filter.SegmentID)
			if err != nil {
				return nil, err
			}
			q.Segment = f
		}
		return q, nil
	}
	return nil, errs.Field("filter", "the job has no selection")
}

// start marks the job running, counts its selection on the first run and
// writes an export's header row (chunk 0).
func (w *BulkWorker) start(ctx context.Context, j BulkJob, q *ListQuery) error {
	total := int64(len(j.selector.IDs))
	if q != nil && j.Total == nil {
		n, err := Count(ctx, w.Pool, *q)
		if err != nil {
			return fmt.Errorf("bulk job %d: count: %w", j.ID, err)
		}
		total = n
	}
	return pgx.BeginFunc(ctx, w.Pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, query("start_bulk_job"), j.ID, total); err != nil {
			return fmt.Errorf("bulk job %d: start: %w", j.ID, err)
		}
		if j.Action == BulkExport && j.batches == 0 {
			head, err := exportRows(nil)
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, query("store_bulk_export_chunk"), j.ID, 0, head); err != nil {
				return fmt.Errorf("bulk job %d: export header: %w", j.ID, err)
			}
		}
		return nil
	})
}

// batch does the next batch after the job's cursor in one transaction and
// reports whether the selection is exhausted.
func (w *BulkWorker) batch(ctx context.Context, id int64, q *ListQuery, all []int64, size int) (end bool, err error) {
	err = pgx.BeginFunc(ctx, w.Pool, func(tx pgx.Tx) error {
		j, err := scanBulkJob(tx.QueryRow(ctx, query("lock_bulk_job"), id))
		if err != nil {
			return err
		}
		var ids []int64
		var cursor int64
		if q == nil {
			ids, cursor, end = idsPage(all, j.cursor, size)
		} else if ids, cursor, end, err = selectPage(ctx, tx, *q, j.cursor, size); err != nil {
			return err
		}
		if len(ids) == 0 && cursor == j.cursor {
			end = true
			return nil
		}
		done, err := w.apply(ctx, tx, j, ids)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, query("advance_bulk_job"), id, cursor, done, int64(len(ids))-done); err != nil {
			return fmt.Errorf("bulk job %d: advance: %w", id, err)
		}
		return nil
	})
	return end, err
}

// idsPage is the next page of a sorted id list after cursor.
func idsPage(all []int64, cursor int64, size int) (ids []int64, next int64, end bool) {
	i, _ := slices.BinarySearch(all, cursor+1)
	ids = all[i:min(i+size, len(all))]
	next = cursor
	if len(ids) > 0 {
		next = ids[len(ids)-1]
	}
	return ids, next, i+len(ids) >= len(all)
}

// apply runs j's action on one batch inside tx and returns how many of ids
// it applied to (the rest are erased or unknown contacts).
func (w *BulkWorker) apply(ctx context.Context, tx pgx.Tx, j BulkJob, ids []int64) (int64, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	var n int64
	var err error
	switch j.Action {
	case BulkTag:
		err = tx.QueryRow(ctx, query("bulk_tag"), ids, j.Tag).Scan(&n)
	case BulkUntag:
		err = tx.QueryRow(ctx, query("bulk_untag"), ids, j.Tag).Scan(&n)
	case BulkSuppress:
		err = tx.QueryRow(ctx, query("bulk_suppress"), ids).Scan(&n)
	case BulkErase:
		return w.erase(ctx, tx, ids)
	case BulkExport:
		return w.export(ctx, tx, j, ids)
	case BulkSubscribe, BulkUnsubscribe:
		return w.setTopic(ctx, tx, j, ids)
	default:
		return 0, errs.Field("action", "unknown action %q", j.Action)
	}
	if err != nil {
		return 0, fmt.Errorf("bulk job %d: %s: %w", j.ID, j.Action, err)
	}
	return n, nil
}

// erase erases each contact of the batch that exists, in the batch's
// transaction.
func (w *BulkWorker) erase(ctx context.Context, tx pgx.Tx, ids []int64) (int64, error) {
	rows, err := tx.Query(ctx, query("bulk_existing_ids"), ids)
	if err != nil {
		return 0, fmt.Errorf("bulk erase: %w", err)
	}
	found, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return 0, fmt.Errorf("bulk erase: %w", err)
	}
	for _, id := range found {
		if err := Erase(ctx, tx, w.Events, id); err != nil {
			return 0, err
		}
	}
	return int64(len(found)), nil
}

// export stores the batch's rows as the job's chunk number batches+1.
func (w *BulkWorker) export(ctx context.Context, tx pgx.Tx, j BulkJob, ids []int64) (int64, error) {
	cs, err := GetMany(ctx, tx, ids)
	if err != nil {
		return 0, err
	}
	sortByID(cs)
	data, err := exportRows(cs)
	if err != nil {
		return 0, err
	}
	if _, err := tx.Exec(ctx, query("store_bulk_export_chunk"), j.ID, j.batches+1, data); err != nil {
		return 0, fmt.Errorf("bulk job %d: export chunk: %w", j.ID, err)
	}
	return int64(len(cs)), nil
}

// exportColumns are the export's CSV columns, in the import's names where
// they share one (so an export can be imported again).
var exportColumns = []string{"id", "email", "name", "status", "tags", "attributes", "created_at"}

// exportRows writes cs as CSV rows; nil writes the header row. Tags are
// separated by ";" as the import reads them.
func exportRows(cs []Contact) ([]byte, error) {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	if cs == nil {
		if err := w.Write(exportColumns); err != nil {
			return nil, fmt.Errorf("export header: %w", err)
		}
	}
	for _, c := range cs {
		attrs, err := json.Marshal(c.Attributes)
		if err != nil {
			return nil, fmt.Errorf("export contact %d: %w", c.ID, err)
		}
		rec := []string{strconv.FormatInt(c.ID, 10), csvSafe(c.Email), csvSafe(c.Name), c.Status,
			csvSafe(strings.Join(c.Tags, ";")), string(attrs), c.CreatedAt.UTC().Format(time.RFC3339)}
		if err := w.Write(rec); err != nil {
			return nil, fmt.Errorf("export contact %d: %w", c.ID, err)
		}
	}
	w.Flush()
	return buf.Bytes(), w.Error()
}

// csvSafe keeps a spreadsheet from reading a cell as a formula.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// fail records that the job cannot run and cancels its River job.
func (w *BulkWorker) fail(ctx context.Context, id int64, cause error) error {
	msg := "internal error"
	if e := asFieldErr(cause); e.Err == nil {
		msg = e.Message
	}
	if _, err := w.Pool.Exec(ctx, query("finish_bulk_job"), id, BulkFailed, msg); err != nil {
		return fmt.Errorf("bulk job %d: fail: %w", id, err)
	}
	w.logger().WarnContext(ctx, "bulk job failed", slog.Int64("bulk_id", id), slog.Any("error", cause))
	return river.JobCancel(cause)
}

func (w *BulkWorker) logger() *slog.Logger {
	if w.Logger == nil {
		return slog.Default()
	}
	return w.Logger
}
