package contacts

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/peykar/peykar/internal/errs"
)

// Import modes.
const (
	// ModeUpsert updates existing contacts: a non-empty name replaces,
	// attributes merge, tags are added, consent is set if missing. Status is
	// never changed, so an unsubscribed, bounced or complained contact stays so.
	ModeUpsert = "upsert"
	// ModeSkipExisting leaves existing contacts untouched.
	ModeSkipExisting = "skip-existing"
)

// Import tuning.
const (
	importBatch      = 5000 // rows per COPY + upsert
	maxReportedLines = 1000 // rejections and duplicates kept in a Result
)

// Progress is how far an import has got.
type Progress struct {
	Total    int64 `json:"total"`
	Inserted int64 `json:"inserted"`
	Updated  int64 `json:"updated"`
	Skipped  int64 `json:"skipped"`
	Merged   int64 `json:"merged"`
	// RejectedCount counts all rejected lines (Result.Rejected keeps the
	// first 1000).
	RejectedCount int64 `json:"rejected_count"`
}

// Result is the outcome of an import. Every data line is counted once:
// Total = Inserted + Updated + Skipped + Merged + RejectedCount.
type Result struct {
	Progress
	Rejected   []Rejection `json:"rejected"`
	Duplicates []Duplicate `json:"duplicates"`
}

func (r *Result) reject(x Rejection) {
	r.RejectedCount++
	if len(r.Rejected) < maxReportedLines {
		r.Rejected = append(r.Rejected, x)
	}
}

func (r *Result) duplicate(d Duplicate) {
	r.Merged++
	if len(r.Duplicates) < maxReportedLines {
		r.Duplicates = append(r.Duplicates, d)
	}
}

// ImportFile imports the CSV file at path into the contacts (see
// ImportCSV); for the `peykar import` command.
func ImportFile(ctx context.Context, pool *pgxpool.Pool, path, mode string, progress func(Progress)) (Result, error) {
	f, err := os.Open(path)
	if err != nil {
		return Result{}, fmt.Errorf("import: %w", err)
	}
	defer f.Close()
	return ImportCSV(ctx, pool, f, mode, func(r Result) {
		if progress != nil {
			progress(r.Progress)
		}
	})
}

// ImportCSV reads contacts from a CSV stream with a header line (email,
// name, tags separated by ; or |, consent_source; any other column is an
// attribute) and upserts them in batches. A bad line is rejected with its
// line number and never stops the good ones; a repeated address is merged
// into its first line's contact. progress, when not nil, is called after
// each batch has committed. The error is errs.Invalid when the header
// is unusable or the mode unknown.
func ImportCSV(ctx context.Context, pool *pgxpool.Pool, r io.Reader, mode string, progress func(Result)) (Result, error) {
	return importCSV(ctx, pool, r, mode, importBatch, progress)
}

func importCSV(ctx context.Context, pool *pgxpool.Pool, r io.Reader, mode string, batch int, progress func(Result)) (Result, error) {
	if mode == "" {
		mode = ModeUpsert
	}
	if mode != ModeUpsert && mode != ModeSkipExisting {
		return Result{}, errs.Field("mode", "must be upsert or skip-existing")
	}
	p, err := newCSVParser(r)
	if err != nil {
		return Result{}, err
	}
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return Result{}, fmt.Errorf("import: %w", err)
	}
	defer conn.Release()
	im := &importer{conn: conn.Conn(), mode: mode, size: batch}
	if err := im.prepare(ctx); err != nil {
		return Result{}, err
	}
	defer im.cleanup()
	res, err := im.run(ctx, p, progress)
	if err != nil {
		return res, err
	}
	return res, nil
}

// importer runs one import on one connection (its temp tables are
// per-connection).
type importer struct {
	conn  *pgx.Conn
	mode  string
	size  int // rows per batch
	res   Result
	batch []importRow
	index map[string]int // key → position in batch
}

func (im *importer) prepare(ctx context.Context) error {
	_, err := im.conn.Exec(ctx, `
		DROP TABLE IF EXISTS pg_temp.import_rows, pg_temp.import_seen;
		CREATE TEMP TABLE import_rows (
			line integer NOT NULL, email text NOT NULL, email_key text GENERATED ALWAYS AS (lower(email)) STORED,
			name text NOT NULL, attributes jsonb NOT NULL, tags text[] NOT NULL, consent_source text, dup_of integer);
		CREATE TEMP TABLE import_seen (email_key text PRIMARY KEY, line integer NOT NULL, created boolean NOT NULL DEFAULT false);`)
	if err != nil {
		return fmt.Errorf("import: prepare: %w", err)
	}
	return nil
}

// cleanup drops the temp tables so the pooled connection is clean.
func (im *importer) cleanup() {
	_, _ = im.conn.Exec(context.Background(), `DROP TABLE IF EXISTS pg_temp.import_rows, pg_temp.import_seen`)
}

func (im *importer) run(ctx context.Context, p *csvParser, progress func(Result)) (Result, error) {
	im.index = make(map[string]int, im.size)
	im.res.Rejected, im.res.Duplicates = []Rejection{}, []Duplicate{}
	for {
		row, rej, err := p.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return im.res, fmt.Errorf("import: read: %w", err)
		}
		im.res.Total++
		if rej != nil {
			im.res.reject(*rej)
			continue
		}
		if i, dup := im.index[row.key]; dup {
			im.batch[i].merge(row)
			im.res.duplicate(Duplicate{Line: row.line, FirstLine: im.batch[i].line})
			continue
		}
		im.index[row.key] = len(im.batch)
		im.batch = append(im.batch, row)
		if len(im.batch) >= im.size {
			if err := im.flush(ctx); err != nil {
				return im.res, err
			}
			if progress != nil {
				progress(im.res)
			}
		}
	}
	if err := im.flush(ctx); err != nil {
		return im.res, err
	}
	if progress != nil {
		progress(im.res)
	}
	return im.res, nil
}

// flush writes the batch in one transaction: COPY into the temp table,
// find addresses seen in earlier batches, one INSERT … ON CONFLICT for the
// new ones and one UPDATE merging the repeated ones.
func (im *importer) flush(ctx context.Context) error {
	if len(im.batch) == 0 {
		return nil
	}
	tx, err := im.conn.Begin(ctx)
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	if err := im.write(ctx, tx); err != nil {
		return fmt.Errorf("import: lines %d–%d: %w", im.batch[0].line, im.batch[len(im.batch)-1].line, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("import: commit: %w", err)
	}
	im.batch = im.batch[:0]
	clear(im.index)
	return nil
}

func (im *importer) write(ctx context.Context, tx pgx.Tx) error {
	if _, err := tx.Exec(ctx, `TRUNCATE import_rows`); err != nil {
		return err
	}
	_, err := tx.CopyFrom(ctx, pgx.Identifier{"import_rows"},
		[]string{"line", "email", "name", "attributes", "tags", "consent_source"},
		pgx.CopyFromSlice(len(im.batch), func(i int) ([]any, error) {
			r := &im.batch[i]
			var consent *string
			if r.consent != "" {
				consent = &r.consent
			}
			return []any{r.line, r.email, r.name, r.attrs, r.tags, consent}, nil
		}))
	if err != nil {
		return fmt.Errorf("copy: %w", err)
	}
	// Addresses an earlier batch of this file already had.
	rows, err := tx.Query(ctx, `UPDATE import_rows r SET dup_of = s.line FROM import_seen s
		WHERE s.email_key = r.email_key RETURNING r.line, s.line`)
	if err != nil {
		return fmt.Errorf("find repeats: %w", err)
	}
	var line, first, repeats int
	if _, err := pgx.ForEachRow(rows, []any{&line, &first}, func() error {
		im.res.duplicate(Duplicate{Line: line, FirstLine: first})
		repeats++
		return nil
	}); err != nil {
		return fmt.Errorf("find repeats: %w", err)
	}
	var inserted, updated, fresh int64
	err = tx.QueryRow(ctx, upsertSQL, im.mode).Scan(&inserted, &updated, &fresh)
	if err != nil {
		return fmt.Errorf("upsert: %w", err)
	}
	im.res.Inserted += inserted
	im.res.Updated += updated
	im.res.Skipped += fresh - inserted - updated
	if repeats == 0 {
		return nil
	}
	// The temp table has no statistics; without them the planner may scan
	// all contacts for a handful of repeats.
	if _, err := tx.Exec(ctx, `ANALYZE import_rows`); err != nil {
		return fmt.Errorf("merge repeats: %w", err)
	}
	if _, err := tx.Exec(ctx, mergeSQL, im.mode); err != nil {
		return fmt.Errorf("merge repeats: %w", err)
	}
	return nil
}

// upsertSQL inserts the batch's new addresses and, in upsert mode, merges
// into existing contacts whatever changes them (status is never touched),
// then remembers the batch's addresses, and whether this import created
// them, for the batches after it. Rows go in key order so concurrent
// imports lock in the same order; DISTINCT ON guards against two rows that
// only PostgreSQL's lower() makes equal (Go's de-duplication has merged
// all others).
const upsertSQL = `
	WITH up AS (
		INSERT INTO contacts AS c (email, name, attributes, tags, consent_source, consent_at)
		SELECT DISTINCT ON (email_key) email, name, attributes, tags, consent_source,
			CASE WHEN consent_source IS NOT NULL THEN now() END
		FROM import_rows WHERE dup_of IS NULL ORDER BY email_key, line
		ON CONFLICT (email_key) DO UPDATE SET
			name = CASE WHEN EXCLUDED.name <> '' THEN EXCLUDED.name ELSE c.name END,
			attributes = c.attributes || EXCLUDED.attributes,
			tags = c.tags || ARRAY(SELECT t FROM unnest(EXCLUDED.tags) t WHERE t <> ALL (c.tags)),
			consent_source = COALESCE(c.consent_source, EXCLUDED.consent_source),
			consent_at = CASE WHEN c.consent_source IS NULL THEN EXCLUDED.consent_at ELSE c.consent_at END,
			updated_at = now()
		WHERE $1 = 'upsert' AND (
			(EXCLUDED.name <> '' AND EXCLUDED.name <> c.name)
			OR NOT c.attributes @> EXCLUDED.attributes
			OR NOT c.tags @> EXCLUDED.tags
			OR (c.consent_source IS NULL AND EXCLUDED.consent_source IS NOT NULL))
		RETURNING c.email_key, (xmax = 0) AS inserted),
	seen AS (
		INSERT INTO import_seen (email_key, line, created)
		SELECT r.email_key, r.line, COALESCE(up.inserted, false)
		FROM import_rows r LEFT JOIN up ON up.email_key = r.email_key
		WHERE r.dup_of IS NULL
		ON CONFLICT DO NOTHING)
	SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted),
		(SELECT count(*) FROM import_rows WHERE dup_of IS NULL)
	FROM up`

// mergeSQL folds rows repeating an address of an earlier batch into that
// contact: in upsert mode always, in skip-existing mode when this import
// created the contact.
const mergeSQL = `
	UPDATE contacts c SET
		name = CASE WHEN r.name <> '' THEN r.name ELSE c.name END,
		attributes = c.attributes || r.attributes,
		tags = c.tags || ARRAY(SELECT t FROM unnest(r.tags) t WHERE t <> ALL (c.tags)),
		consent_source = COALESCE(c.consent_source, r.consent_source),
		consent_at = CASE WHEN c.consent_source IS NULL AND r.consent_source IS NOT NULL THEN now() ELSE c.consent_at END,
		updated_at = now()
	FROM import_rows r JOIN import_seen s ON s.email_key = r.email_key
	WHERE r.dup_of IS NOT NULL AND c.email_key = r.email_key AND ($1 = 'upsert' OR s.created)`
