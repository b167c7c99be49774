package contacts

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/labstack/echo/v4"

	"github.com/peykar/peykar/internal/errs"
	"github.com/peykar/peykar/internal/httpapi"
	"github.com/peykar/peykar/internal/safetext"
)

// Upload limits.
const (
	maxUploadBytes = 2 << 30 // 2 GiB
	uploadChunk    = 1 << 20 // bytes per import_chunks row
)

// Import is the state of an import, as GET /imports/:id shows it.
type Import struct {
	ID     int64  `json:"id"`
	Status string `json:"status"`
	Mode   string `json:"mode"`
	// Delimiter separates the file's columns (comma, semicolon, tab);
	// TagSeparator the tags in its tags column (semicolon: ";" or "|",
	// comma, pipe, space).
	Delimiter    string      `json:"delimiter"`
	TagSeparator string      `json:"tag_separator"`
	Filename     string      `json:"filename"`
	Size         int64       `json:"size"`
	Rejected     []Rejection `json:"rejected"`
	Duplicates   []Duplicate `json:"duplicates"`
	Error        string      `json:"error,omitempty"`
	CreatedAt    time.Time   `json:"created_at"`
	StartedAt    *time.Time  `json:"started_at"`
	FinishedAt   *time.Time  `json:"finished_at"`
	// Kind is ImportContacts or ImportEvents (POST /events/import).
	Kind string `json:"kind"`
	// CreateContacts: an events import creates the contact of an unknown
	// email instead of refusing the line.
	CreateContacts bool `json:"create_contacts"`
	Progress
}

// GetImport returns an import's state, or errs.NotFound.
func GetImport(ctx context.Context, db DBTX, id int64) (Import, error) {
	var im Import
	err := db.QueryRow(ctx, query("get_import"), id).
		Scan(&im.ID, &im.Status, &im.Mode, &im.Filename, &im.Size, &im.Total, &im.Inserted, &im.Updated, &im.Skipped,
			&im.Merged, &im.RejectedCount, &im.Rejected, &im.Duplicates, &im.Error, &im.CreatedAt, &im.StartedAt, &im.FinishedAt,
			&im.Delimiter, &im.TagSeparator, &im.Kind, &im.CreateContacts)
	if errors.Is(err, pgx.ErrNoRows) {
		return im, errs.New(errs.NotFound, "no such import")
	}
	if err != nil {
		return im, fmt.Errorf("get import: %w", err)
	}
	return im, nil
}

func (h *handlers) getImport(c echo.Context) error {
	id, err := httpapi.PathID(c, "id")
	if err != nil {
		return err
	}
	im, err := GetImport(c.Request().Context(), h.deps.Pool, id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, im)
}

// importContacts streams the multipart upload into import_chunks and
// enqueues the import job, all in one transaction: an interrupted upload
// leaves nothing behind.
func (h *handlers) importContacts(c echo.Context) error {
	return h.upload(c, ImportContacts)
}

// importEvents is POST /events/import: an events file (see
// ImportEventsCSV), uploaded and run like a contacts import; its progress
// is GET /imports/{id}.
func (h *handlers) importEvents(c echo.Context) error {
	return h.upload(c, ImportEvents)
}

// upload stores a multipart import of kind and enqueues its job.
func (h *handlers) upload(c echo.Context, kind string) error {
	ctx := c.Request().Context()
	if h.deps.River == nil {
		return errs.New(errs.Unavailable, "imports are not available: no job queue")
	}
	c.Request().Body = http.MaxBytesReader(c.Response(), c.Request().Body, maxUploadBytes)
	mr, err := c.Request().MultipartReader()
	if err != nil {
		return errs.Field("file", "send multipart/form-data with the CSV in a field named file")
	}
	tx, err := h.deps.Pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("import upload: %w", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	var id int64
	if err := tx.QueryRow(ctx, query("create_import")).Scan(&id); err != nil {
		return fmt.Errorf("import upload: %w", err)
	}
	var opts ImportOptions
	var createContacts string
	filename, size, gotFile := "", int64(0), false
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return uploadError(err)
		}
		switch part.FormName() {
		case "mode", "delimiter", "tag_separator", "create_contacts":
			b, err := io.ReadAll(io.LimitReader(part, 64))
			if err != nil {
				return uploadError(err)
			}
			switch part.FormName() {
			case "mode":
				opts.Mode = string(b)
			case "delimiter":
				opts.Delimiter = string(b)
			case "create_contacts":
				createContacts = string(b)
			default:
				opts.TagSeparator = string(b)
			}
		case "file":
			if gotFile {
				return errs.Field("file", "send one file per import")
			}
			gotFile, filename = true, part.FileName()
			if safetext.HasNUL(filename) {
				return errs.Field("file", "the file name contains a NUL byte (\\u0000); rename the file")
			}
			if size, err = storeChunks(ctx, tx, id, part); err != nil {
				return err
			}
		}
		part.Close()
	}
	if !gotFile {
		return errs.Field("file", "is required")
	}
	if opts, err = opts.withDefaults(); err != nil {
		return err
	}
	if err := describeUpload(ctx, tx, id, kind, filename, size, opts, createContacts); err != nil {
		return err
	}
	if _, err := h.deps.River.InsertTx(ctx, tx, ImportArgs{ImportID: id}, nil); err != nil {
		return fmt.Errorf("import upload: enqueue: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("import upload: %w", err)
	}
	return c.JSON(http.StatusAccepted, map[string]any{"id": id, "status": ImportRunning})
}

// storeChunks copies one part into import_chunks, a chunk at a time.
func storeChunks(ctx context.Context, tx pgx.Tx, id int64, part *multipart.Part) (int64, error) {
	buf := make([]byte, uploadChunk)
	var size int64
	for seq := 0; ; seq++ {
		n := 0
		var err error
		for n < len(buf) && err == nil {
			var m int
			m, err = part.Read(buf[n:])
			n += m
		}
		if n > 0 {
			if _, xerr := tx.Exec(ctx, query("store_import_chunk"), id, seq, buf[:n]); xerr != nil {
				return 0, fmt.Errorf("import upload: store: %w", xerr)
			}
			size += int64(n)
		}
		if errors.Is(err, io.EOF) {
			return size, nil
		}
		if err != nil {
			return 0, uploadError(err)
		}
	}
}

func uploadError(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return errs.Field("file", "is larger than %d bytes", int64(maxUploadBytes))
	}
	return errs.Field("file", "the upload could not be read: %v", err)
}

// describeUpload records the uploaded file and the choices of its kind:
// a contacts import's mode, delimiter and tag separator; an events
// import's delimiter and create_contacts ("true"/"1"/"on", "false"/"0"/"").
func describeUpload(ctx context.Context, tx pgx.Tx, id int64, kind, filename string, size int64, opts ImportOptions, createContacts string) error {
	var err error
	if kind == ImportEvents {
		create := false
		switch createContacts {
		case "true", "1", "on", "yes":
			create = true
		case "", "false", "0", "off", "no":
		default:
			return errs.Field("create_contacts", "must be true or false, not %q", createContacts)
		}
		_, err = tx.Exec(ctx, query("describe_event_import"), id, filename, size, opts.Delimiter, create)
	} else {
		_, err = tx.Exec(ctx, query("describe_import"), id, opts.Mode, filename, size, opts.Delimiter, opts.TagSeparator)
	}
	if err != nil {
		return fmt.Errorf("import upload: %w", err)
	}
	return nil
}
