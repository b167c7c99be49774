package contacts

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
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
	maxImportWorkers = 4    // connections one import writes on at most
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

// ImportFile imports the CSV file at path into the contacts with the
// choices of opts (see ImportCSVWith); for the `peykar import` command.
func ImportFile(ctx context.Context, pool *pgxpool.Pool, path string, opts ImportOptions, progress func(Progress)) (Result, error) {
	f, err := os.Open(path) //nolint:gosec // G304: the operator names the file on peykar import's command line
	if err != nil {
		return Result{}, fmt.Errorf("import: %w", err)
	}
	defer f.Close()
	return ImportCSVWith(ctx, pool, f, opts, func(r Result) {
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
	return ImportCSVWith(ctx, pool, r, ImportOptions{Mode: mode}, progress)
}

// ImportCSVWith is ImportCSV with every choice of opts: the mode, the
// file's delimiter and the tags' separator. An unknown choice is an
// errs.Invalid error on its field.
func ImportCSVWith(ctx context.Context, pool *pgxpool.Pool, r io.Reader, opts ImportOptions, progress func(Result)) (Result, error) {
	return importCSV(ctx, pool, r, opts, importBatch, min(runtime.GOMAXPROCS(0), maxImportWorkers), progress)
}

func importCSV(ctx context.Context, pool *pgxpool.Pool, r io.Reader, opts ImportOptions, batch, workers int, progress func(Result)) (Result, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return Result{}, err
	}
	mode := opts.Mode
	p, err := newCSVParser(r, opts)
	if err != nil {
		return Result{}, err
	}
	if p.hasTopics() {
		if err := p.loadTopics(ctx, pool); err != nil {
			return Result{}, err
		}
	}
	workers = max(1, min(workers, int(pool.Config().MaxConns)-1))
	im := &importer{mode: mode, size: batch, progress: progress}
	im.res.Rejected, im.res.Duplicates = []Rejection{}, []Duplicate{}
	for range workers {
		conn, err := pool.Acquire(ctx)
		if err != nil {
			im.release()
			return Result{}, fmt.Errorf("import: %w", err)
		}
		w := &importWorker{im: im, conn: conn, index: make(map[string]int, batch), todo: make(chan []importRow, 1)}
		im.workers = append(im.workers, w)
		if err := w.prepare(ctx); err != nil {
			im.release()
			return Result{}, err
		}
	}
	defer im.release()
	return im.run(ctx, p)
}

// importer spreads an import over workers, each with its own connection
// (temp tables are per connection) and its own share of the addresses: a
// row goes to the worker its address hashes to, so a repeated address
// always meets its first occurrence in the same worker. The parser (this
// goroutine) fills the workers' batches; each worker writes its full
// batches while the parser goes on, so parsing, encoding and PostgreSQL's
// work overlap and PostgreSQL uses more than one core.
type importer struct {
	mode     string
	size     int // rows per batch
	progress func(Result)
	workers  []*importWorker

	mu  sync.Mutex
	res Result
}

// importWorker owns one connection and one hash partition of addresses.
type importWorker struct {
	im    *importer
	conn  *pgxpool.Conn
	batch []importRow      // being filled by the parser
	index map[string]int   // key → position in batch
	todo  chan []importRow // full batches for the writer
}

func (w *importWorker) prepare(ctx context.Context) error {
	_, err := w.conn.Exec(ctx, `
		DROP TABLE IF EXISTS pg_temp.import_rows, pg_temp.import_seen;
		CREATE TEMP TABLE import_rows (
			line integer NOT NULL, email text NOT NULL, email_key text GENERATED ALWAYS AS (lower(email)) STORED,
			name text NOT NULL, attributes jsonb NOT NULL, tags text[] NOT NULL, consent_source text, dup_of integer);
		CREATE TEMP TABLE import_seen (email text NOT NULL, email_key text GENERATED ALWAYS AS (lower(email)) STORED PRIMARY KEY,
			line integer NOT NULL, created boolean NOT NULL DEFAULT false);`)
	if err != nil {
		return fmt.Errorf("import: prepare: %w", err)
	}
	return nil
}

// release drops the temp tables so the pooled connections are clean, and
// gives the connections back.
func (im *importer) release() {
	for _, w := range im.workers {
		_, _ = w.conn.Exec(context.Background(), `DROP TABLE IF EXISTS pg_temp.import_rows, pg_temp.import_seen`)
		w.conn.Release()
	}
	im.workers = nil
}

func (im *importer) run(ctx context.Context, p *csvParser) (Result, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	for _, w := range im.workers {
		wg.Go(func() {
			for batch := range w.todo {
				if ctx.Err() != nil {
					continue // drain after a failure
				}
				if err := w.flush(ctx, batch); err != nil {
					cancel(err)
				}
			}
		})
	}
	err := im.parse(ctx, p)
	for _, w := range im.workers {
		close(w.todo)
	}
	wg.Wait()
	if cause := context.Cause(ctx); cause != nil {
		err = cause // a writer's failure, rather than the cancellation it caused
	}
	im.mu.Lock()
	defer im.mu.Unlock()
	slices.SortFunc(im.res.Duplicates, func(a, b Duplicate) int { return a.Line - b.Line })
	if err != nil {
		return im.res, err
	}
	if im.progress != nil {
		im.progress(im.res)
	}
	return im.res, nil
}

// parse reads every line and hands rows to the workers.
func (im *importer) parse(ctx context.Context, p *csvParser) error {
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		row, rej, err := p.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("import: read: %w", err)
		}
		im.mu.Lock()
		im.res.Total++
		if rej != nil {
			im.res.reject(*rej)
			im.mu.Unlock()
			continue
		}
		w := im.workers[partition(row.key, len(im.workers))]
		if i, dup := w.index[row.key]; dup {
			w.batch[i].merge(row)
			im.res.duplicate(Duplicate{Line: row.line, FirstLine: w.batch[i].line})
			im.mu.Unlock()
			continue
		}
		im.mu.Unlock()
		w.index[row.key] = len(w.batch)
		w.batch = append(w.batch, row)
		if len(w.batch) >= im.size {
			w.send()
		}
	}
	for _, w := range im.workers {
		w.send()
	}
	return nil
}

// send hands the filled batch to the writer and starts a new one.
func (w *importWorker) send() {
	if len(w.batch) == 0 {
		return
	}
	w.todo <- w.batch
	w.batch = make([]importRow, 0, w.im.size)
	clear(w.index)
}

// partition picks the worker for an address (FNV-1a).
func partition(key string, n int) int {
	if n == 1 {
		return 0
	}
	h := uint32(2166136261)
	for i := 0; i < len(key); i++ {
		h = (h ^ uint32(key[i])) * 16777619
	}
	return int(h % uint32(n))
}

// flush writes a batch in one transaction (see write).
func (w *importWorker) flush(ctx context.Context, batch []importRow) error {
	tx, err := w.conn.Begin(ctx)
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	var c batchCounts
	if err := w.write(ctx, tx, batch, &c); err != nil {
		return fmt.Errorf("import: lines %d–%d: %w", batch[0].line, batch[len(batch)-1].line, err)
	}
	if err := w.subscribeTopics(ctx, tx, batch); err != nil {
		return fmt.Errorf("import: lines %d–%d: %w", batch[0].line, batch[len(batch)-1].line, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("import: commit: %w", err)
	}
	im := w.im
	im.mu.Lock()
	defer im.mu.Unlock()
	im.res.Inserted += c.inserted
	im.res.Updated += c.updated
	im.res.Skipped += c.skipped
	for _, d := range c.repeats {
		im.res.duplicate(d)
	}
	if im.progress != nil {
		im.progress(im.res)
	}
	return nil
}

// batchCounts is what one batch did.
type batchCounts struct {
	inserted, updated, skipped int64
	repeats                    []Duplicate
}

// write writes one batch. Most rows of a typical import are addresses
// neither the table nor this import has seen: one probe finds them, and
// they are copied straight into contacts (and the import's address table),
// in key order. The others (existing contacts, repeats of earlier
// batches) take the general path through the temp table: upsert, merge.
// Should the direct copy meet an address after all (another writer
// inserted it meanwhile, or two addresses only PostgreSQL's lower()
// makes equal), it is undone and the whole batch takes the general path.
func (w *importWorker) write(ctx context.Context, tx pgx.Tx, batch []importRow, c *batchCounts) error {
	emails := make([]string, len(batch))
	for i := range batch {
		emails[i] = batch[i].email
	}
	var now time.Time
	var known []int32 // 1-based positions in batch
	err := tx.QueryRow(ctx, `SELECT now(), ARRAY(
		SELECT u.i::int FROM unnest($1::text[]) WITH ORDINALITY AS u(e, i)
		WHERE EXISTS (SELECT 1 FROM contacts c WHERE c.email_key = lower(u.e))
			OR EXISTS (SELECT 1 FROM import_seen s WHERE s.email_key = lower(u.e)))`, emails).Scan(&now, &known)
	if err != nil {
		return fmt.Errorf("probe addresses: %w", err)
	}
	if len(known) == len(batch) {
		return w.upsert(ctx, tx, batch, c)
	}
	isKnown := make([]bool, len(batch))
	for _, i := range known {
		isKnown[i-1] = true
	}
	fresh := make([]*importRow, 0, len(batch)-len(known))
	rest := make([]importRow, 0, len(known))
	for i := range batch {
		if isKnown[i] {
			rest = append(rest, batch[i])
		} else {
			fresh = append(fresh, &batch[i])
		}
	}
	slices.SortFunc(fresh, func(a, b *importRow) int { return strings.Compare(a.key, b.key) })
	copied, err := copyFresh(ctx, tx, fresh, now)
	if err != nil {
		return err
	}
	if !copied {
		return w.upsert(ctx, tx, batch, c)
	}
	c.inserted += int64(len(fresh))
	if len(rest) == 0 {
		return nil
	}
	return w.upsert(ctx, tx, rest, c)
}

// copyFresh copies rows with new addresses into contacts and the import's
// address table, under a savepoint: false (and nothing written) when an
// address turns out to exist.
func copyFresh(ctx context.Context, tx pgx.Tx, fresh []*importRow, now time.Time) (bool, error) {
	sp, err := tx.Begin(ctx)
	if err != nil {
		return false, err
	}
	defer func() { _ = sp.Rollback(context.WithoutCancel(ctx)) }()
	_, err = sp.CopyFrom(ctx, pgx.Identifier{"contacts"},
		[]string{"email", "name", "attributes", "tags", "consent_source", "consent_at"},
		pgx.CopyFromSlice(len(fresh), func(i int) ([]any, error) {
			r := fresh[i]
			attrs, err := attrsJSON(r.attrs)
			if err != nil {
				return nil, fmt.Errorf("line %d: %w", r.line, err)
			}
			var consent *string
			var at *time.Time
			if r.consent != "" {
				consent, at = &r.consent, &now
			}
			return []any{r.email, r.name, attrs, r.tags, consent, at}, nil
		}))
	if isUniqueViolation(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("copy new contacts: %w", err)
	}
	_, err = sp.CopyFrom(ctx, pgx.Identifier{"import_seen"}, []string{"email", "line", "created"},
		pgx.CopyFromSlice(len(fresh), func(i int) ([]any, error) { return []any{fresh[i].email, fresh[i].line, true}, nil }))
	if isUniqueViolation(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("copy new contacts: %w", err)
	}
	if err := sp.Commit(ctx); err != nil {
		return false, fmt.Errorf("copy new contacts: %w", err)
	}
	return true, nil
}

// upsert writes rows through the temp table: COPY, find the addresses
// earlier batches had, one INSERT … ON CONFLICT for the others and, when
// there are repeats, one UPDATE merging them.
func (w *importWorker) upsert(ctx context.Context, tx pgx.Tx, batch []importRow, c *batchCounts) error {
	if _, err := tx.Exec(ctx, `TRUNCATE import_rows`); err != nil {
		return err
	}
	_, err := tx.CopyFrom(ctx, pgx.Identifier{"import_rows"},
		[]string{"line", "email", "name", "attributes", "tags", "consent_source"},
		pgx.CopyFromSlice(len(batch), func(i int) ([]any, error) {
			r := &batch[i]
			attrs, err := attrsJSON(r.attrs)
			if err != nil {
				return nil, fmt.Errorf("line %d: %w", r.line, err)
			}
			var consent *string
			if r.consent != "" {
				consent = &r.consent
			}
			return []any{r.line, r.email, r.name, attrs, r.tags, consent}, nil
		}))
	if err != nil {
		return fmt.Errorf("copy: %w", err)
	}
	// Addresses an earlier batch of this file already had.
	// One index probe per row: joining import_seen (which grows with the
	// file) as a whole could make every batch scan all of it.
	rows, err := tx.Query(ctx, `
		WITH d AS (
			SELECT r.line, (SELECT s.line FROM import_seen s WHERE s.email_key = r.email_key) AS first
			FROM import_rows r)
		UPDATE import_rows r SET dup_of = d.first FROM d
		WHERE d.line = r.line AND d.first IS NOT NULL RETURNING r.line, r.dup_of`)
	if err != nil {
		return fmt.Errorf("find repeats: %w", err)
	}
	var line, first int
	var repeatLines []int32
	if _, err := pgx.ForEachRow(rows, []any{&line, &first}, func() error {
		c.repeats = append(c.repeats, Duplicate{Line: line, FirstLine: first})
		repeatLines = append(repeatLines, int32(line))
		return nil
	}); err != nil {
		return fmt.Errorf("find repeats: %w", err)
	}
	var inserted, updated, fresh int64
	if err := tx.QueryRow(ctx, upsertSQL, w.im.mode).Scan(&inserted, &updated, &fresh); err != nil {
		return fmt.Errorf("upsert: %w", err)
	}
	c.inserted += inserted
	c.updated += updated
	c.skipped += fresh - inserted - updated
	if len(repeatLines) == 0 {
		return nil
	}
	// The repeats by line number: the temp table has no statistics, and
	// a condition on dup_of could make the planner scan all contacts for
	// a handful of repeats; a short list of lines it estimates as few.
	if _, err := tx.Exec(ctx, mergeSQL, w.im.mode, repeatLines); err != nil {
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
		INSERT INTO import_seen (email, line, created)
		SELECT r.email, r.line, COALESCE(up.inserted, false)
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
	FROM import_rows r
	WHERE r.line = ANY($2::int[]) AND c.email_key = r.email_key
		AND ($1 = 'upsert' OR (SELECT s.created FROM import_seen s WHERE s.email_key = r.email_key))`
