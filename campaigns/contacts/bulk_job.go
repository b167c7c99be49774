package contacts

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/peykar/peykar/campaigns/topics"
	"github.com/peykar/peykar/internal/errs"
	"github.com/peykar/peykar/internal/safetext"
)

// Bulk actions.
const (
	BulkTag      = "tag"
	BulkUntag    = "untag"
	BulkSuppress = "suppress"
	BulkErase    = "erase"
	BulkExport   = "export"
	// BulkSubscribe and BulkUnsubscribe set the contacts' status on
	// TopicID, each change with its consent record (bulk_topics.go).
	BulkSubscribe   = "subscribe"
	BulkUnsubscribe = "unsubscribe"
)

// Bulk job statuses.
const (
	BulkQueued   = "queued"
	BulkRunning  = "running"
	BulkFinished = "finished"
	BulkFailed   = "failed"
)

// Bulk selection limits.
const (
	maxBulkIDs   = 10000
	maxBulkQuery = 200
)

// BulkFilter selects the contacts the contact list shows: a stored
// segment's members and/or a search over email and name.
type BulkFilter struct {
	SegmentID int64  `json:"segment_id,omitempty"`
	Q         string `json:"q,omitempty"`
}

// BulkInput is the body of POST /contacts/bulk: one selector (Filter, Rule
// or IDs) and an action; Tag goes with tag and untag.
type BulkInput struct {
	Filter *BulkFilter `json:"filter,omitempty"`
	Rule   string      `json:"rule,omitempty"`
	IDs    []int64     `json:"ids,omitempty"`
	Action string      `json:"action"`
	Tag    string      `json:"tag,omitempty"`
	// TopicID goes with subscribe and unsubscribe.
	TopicID int64 `json:"topic_id,omitempty"`
	// Source is who asked (the handler sets it), recorded on each consent
	// change of a subscribe or unsubscribe.
	Source topics.Source `json:"-"`
}

// bulkSelector is what a job stores of its selection.
type bulkSelector struct {
	Filter *BulkFilter `json:"filter,omitempty"`
	Rule   string      `json:"rule,omitempty"`
	IDs    []int64     `json:"ids,omitempty"`
	// Source is who asked for a subscribe or unsubscribe.
	Source *bulkSource `json:"source,omitempty"`
}

// BulkJob is a bulk action's state, as GET /bulk/{id} shows it. Total is
// nil until the job has counted its selection; Download names the CSV of a
// finished export.
type BulkJob struct {
	ID         int64      `json:"id"`
	Action     string     `json:"action"`
	Tag        string     `json:"tag,omitempty"`
	TopicID    *int64     `json:"topic_id,omitempty"`
	Status     string     `json:"status"`
	Total      *int64     `json:"total"`
	Done       int64      `json:"done"`
	Failed     int64      `json:"failed"`
	Error      string     `json:"error,omitempty"`
	Download   string     `json:"download,omitempty"`
	CreatedAt  time.Time  `json:"created_at"`
	StartedAt  *time.Time `json:"started_at"`
	FinishedAt *time.Time `json:"finished_at"`
	// ExpiredAt is when a finished export's file was deleted.
	ExpiredAt *time.Time `json:"expired_at,omitempty"`

	selector bulkSelector
	cursor   int64
	batches  int
}

// normalize validates in and puts it in normal form: exactly one selector,
// ids sorted and without duplicates, a tag for tag and untag only. Every
// problem is reported with its field.
func (in *BulkInput) normalize() error {
	var list []*errs.Error
	n := 0
	if in.Filter != nil {
		n++
		in.Filter.Q = strings.TrimSpace(in.Filter.Q)
		if in.Filter.SegmentID < 0 {
			list = append(list, errs.Field("filter.segment_id", "must be a segment id"))
		}
		if len(in.Filter.Q) > maxBulkQuery || !utf8.ValidString(in.Filter.Q) {
			list = append(list, errs.Field("filter.q", "must be at most %d bytes of text", maxBulkQuery))
		} else if err := safetext.Line("filter.q", in.Filter.Q); err != nil {
			list = append(list, asFieldErr(err))
		}
	}
	if strings.TrimSpace(in.Rule) != "" {
		n++
	}
	if in.IDs != nil {
		n++
		ids := slices.Clone(in.IDs)
		slices.Sort(ids)
		ids = slices.Compact(ids)
		switch {
		case len(ids) == 0:
			list = append(list, errs.Field("ids", "select at least one contact"))
		case len(ids) > maxBulkIDs:
			list = append(list, errs.Field("ids", "at most %d ids; use a filter or a rule for more", maxBulkIDs))
		case ids[0] <= 0:
			list = append(list, errs.Field("ids", "must be contact ids"))
		}
		in.IDs = ids
	}
	if n != 1 {
		list = append(list, errs.Field("filter", "give exactly one of filter, rule or ids"))
	}
	switch in.Action {
	case BulkTag, BulkUntag:
		tags, err := normalizeTags([]string{in.Tag})
		if err != nil {
			list = append(list, asFieldErr(renameField(err, "tag")))
		} else if len(tags) == 0 {
			list = append(list, errs.Field("tag", "name the tag to %s", in.Action))
		} else {
			in.Tag = tags[0]
		}
	case BulkSuppress, BulkErase, BulkExport:
		if in.Tag != "" {
			list = append(list, errs.Field("tag", "goes only with the tag and untag actions"))
		}
	case BulkSubscribe, BulkUnsubscribe:
		list = append(list, in.normalizeTopic()...)
	default:
		list = append(list, errs.Field("action", "must be one of tag, untag, suppress, erase, export, subscribe, unsubscribe"))
	}
	if in.TopicID != 0 && in.Action != BulkSubscribe && in.Action != BulkUnsubscribe {
		list = append(list, errs.Field("topic_id", "goes only with the subscribe and unsubscribe actions"))
	}
	return errs.Collect(list)
}

func asFieldErr(err error) *errs.Error {
	var e *errs.Error
	if errors.As(err, &e) {
		return e
	}
	return &errs.Error{Code: errs.Invalid, Message: "invalid input", Err: err}
}

// insertBulkJob stores a new job (queued) and returns its id.
func insertBulkJob(ctx context.Context, db DBTX, in BulkInput) (int64, error) {
	sel, err := json.Marshal(bulkSelector{Filter: in.Filter, Rule: in.Rule, IDs: in.IDs, Source: in.bulkSource()})
	if err != nil {
		return 0, fmt.Errorf("create bulk job: %w", err)
	}
	var topic *int64
	if in.TopicID != 0 {
		topic = &in.TopicID
	}
	var id int64
	if err := db.QueryRow(ctx, query("create_bulk_job"), in.Action, in.Tag, sel, topic).Scan(&id); err != nil {
		return 0, fmt.Errorf("create bulk job: %w", err)
	}
	return id, nil
}

// GetBulkJob returns a bulk job's state, or errs.NotFound.
func GetBulkJob(ctx context.Context, db DBTX, id int64) (BulkJob, error) {
	return scanBulkJob(db.QueryRow(ctx, query("get_bulk_job"), id))
}

func scanBulkJob(row pgx.Row) (BulkJob, error) {
	var j BulkJob
	var sel []byte
	err := row.Scan(&j.ID, &j.Action, &j.Tag, &sel, &j.Status, &j.Total, &j.Done, &j.Failed, &j.cursor, &j.batches,
		&j.Error, &j.CreatedAt, &j.StartedAt, &j.FinishedAt, &j.ExpiredAt, &j.TopicID)
	if errors.Is(err, pgx.ErrNoRows) {
		return j, errs.New(errs.NotFound, "no such bulk job")
	}
	if err != nil {
		return j, fmt.Errorf("read bulk job: %w", err)
	}
	if err := json.Unmarshal(sel, &j.selector); err != nil {
		return j, fmt.Errorf("bulk job %d: selector: %w", j.ID, err)
	}
	if j.Action == BulkExport && j.Status == BulkFinished && j.ExpiredAt == nil {
		j.Download = fmt.Sprintf("/api/v1/bulk/%d/export.csv", j.ID)
	}
	return j, nil
}

// WriteBulkExport writes a finished export job's CSV to w, chunk by chunk
// (never the whole file in memory). A job that is no export gives
// errs.NotFound; one still running errs.Conflict.
func WriteBulkExport(ctx context.Context, db DBTX, id int64, w func([]byte) error) error {
	j, err := GetBulkJob(ctx, db, id)
	if err != nil {
		return err
	}
	if j.Action != BulkExport {
		return errs.New(errs.NotFound, "bulk job %d is not an export", id)
	}
	if j.ExpiredAt != nil {
		return errs.New(errs.NotFound, "the export's file was deleted a day after it finished; run the export again")
	}
	if j.Status != BulkFinished {
		return errs.New(errs.Conflict, "the export is not finished yet")
	}
	for seq := 0; seq <= j.batches; seq++ {
		var data []byte
		err := db.QueryRow(ctx, query("read_bulk_export_chunk"), id, seq).Scan(&data)
		if errors.Is(err, pgx.ErrNoRows) {
			continue // a batch that selected nobody wrote no rows
		}
		if err != nil {
			return fmt.Errorf("bulk export %d: chunk %d: %w", id, seq, err)
		}
		if err := w(data); err != nil {
			return err
		}
	}
	return nil
}

// ExportRetention is how long a finished export's file is kept.
const ExportRetention = 24 * time.Hour

// ExpireBulkExports deletes the files of exports finished before before
// and returns how many expired: an export holds personal data, which must
// not outlive its use (nor a later erasure by long).
func ExpireBulkExports(ctx context.Context, db DBTX, before time.Time) (int64, error) {
	var n int64
	if err := db.QueryRow(ctx, query("expire_bulk_exports"), before).Scan(&n); err != nil {
		return 0, fmt.Errorf("expire bulk exports: %w", err)
	}
	return n, nil
}
