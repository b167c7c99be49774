package contacts

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// eventImportBatch is how many lines an events import writes per
// transaction.
const eventImportBatch = 1000

// EventImportOptions are an events import's choices.
type EventImportOptions struct {
	// Delimiter separates the file's columns: DelimiterComma (default),
	// DelimiterSemicolon or DelimiterTab.
	Delimiter string
	// CreateContacts creates the contact of an email no contact has. By
	// default such a line is refused: a typo in a history file should not
	// add people to the audience.
	CreateContacts bool
	// ImportID is the imports row the file was uploaded to (0 for the
	// command line). With it, a line without an idempotency_key is stored
	// under "import:ID:LINE", so a retried job stores each line once.
	ImportID int64
}

// ImportEventsFile imports the events file at path (see ImportEventsCSV);
// for `peykar import --events`.
func ImportEventsFile(ctx context.Context, pool *pgxpool.Pool, path string, opts EventImportOptions, progress func(Progress)) (Result, error) {
	f, err := os.Open(path) //nolint:gosec // G304: the operator names the file on peykar import's command line
	if err != nil {
		return Result{}, fmt.Errorf("import events: %w", err)
	}
	defer f.Close()
	return ImportEventsCSV(ctx, pool, f, opts, func(r Result) {
		if progress != nil {
			progress(r.Progress)
		}
	})
}

// ImportEventsCSV loads historical contact events from a CSV stream whose
// header names the columns: email or contact_id, type, occurred_at, and
// optionally value, currency, idempotency_key and attr.NAME (attributes).
// Each line is checked as POST /events checks a body; a bad line is
// rejected with its line number and never stops the good ones. Lines are
// written in batches, each in one transaction with the contact stats
// RecordEvent keeps (a purchase or conversion adds to conversions and
// revenue and moves last_purchase_at, with the same statement).
//
// Imported events are history: they are not handed to the conversion
// recorder (no campaign attribution) nor to anything RecordEvent triggers
// for a new event (journeys). A line whose idempotency_key is already
// stored with the same event is counted as skipped; with another event,
// it is rejected. progress, when not nil, is called after each batch has
// committed. The error is errs.Invalid when the header is unusable.
func ImportEventsCSV(ctx context.Context, pool *pgxpool.Pool, r io.Reader, opts EventImportOptions, progress func(Result)) (Result, error) {
	p, err := newEventParser(r, opts.Delimiter)
	if err != nil {
		return Result{}, err
	}
	res := Result{Rejected: []Rejection{}, Duplicates: []Duplicate{}}
	batch := make([]eventLine, 0, eventImportBatch)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			return writeEvents(ctx, tx, batch, opts, &res)
		}); err != nil {
			return err
		}
		batch = batch[:0]
		if progress != nil {
			progress(res)
		}
		return nil
	}
	for {
		line, rej, err := p.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return res, fmt.Errorf("import events: read: %w", err)
		}
		res.Total++
		if rej != nil {
			res.reject(*rej)
			continue
		}
		batch = append(batch, line)
		if len(batch) == eventImportBatch {
			if err := flush(); err != nil {
				return res, err
			}
		}
	}
	if err := flush(); err != nil {
		return res, err
	}
	return res, nil
}

// importedContact is a contact an events file names.
type importedContact struct {
	id     int64
	erased bool
	email  string // email_key
}

// writeEvents stores one batch in tx and counts it into res. A batch's
// rejections are only counted once tx commits: a failed batch returns its
// error and the import stops.
func writeEvents(ctx context.Context, tx pgx.Tx, batch []eventLine, opts EventImportOptions, res *Result) error {
	byID, byEmail, err := eventContacts(ctx, tx, batch, opts.CreateContacts)
	if err != nil {
		return err
	}
	var rejected []Rejection
	var rows []eventLine
	var contactIDs []int64
	for _, l := range batch {
		c, reason := resolveEventContact(l.in, byID, byEmail)
		if reason != "" {
			rejected = append(rejected, Rejection{Line: l.line, Reason: reason})
			continue
		}
		if l.in.IdempotencyKey == "" && opts.ImportID != 0 {
			l.in.IdempotencyKey = "import:" + strconv.FormatInt(opts.ImportID, 10) + ":" + strconv.Itoa(l.line)
		}
		rows = append(rows, l)
		contactIDs = append(contactIDs, c.id)
	}
	inserted, conflicts, err := insertEvents(ctx, tx, rows, contactIDs)
	if err != nil {
		return err
	}
	stored, err := storedDigests(ctx, tx, conflicts)
	if err != nil {
		return err
	}
	stats := &pgx.Batch{}
	var added, skipped int64
	for i, l := range rows {
		if !inserted[i] {
			switch digest := stored[l.in.IdempotencyKey]; {
			case digest == eventDigest(l.in) && strings.HasPrefix(l.in.IdempotencyKey, "import:"+strconv.FormatInt(opts.ImportID, 10)+":"):
				added++ // stored by an earlier attempt of this import
			case digest == eventDigest(l.in):
				skipped++
			default:
				rejected = append(rejected, Rejection{Line: l.line, Reason: fmt.Sprintf(
					"idempotency_key %q was already used for a different event", l.in.IdempotencyKey)})
			}
			continue
		}
		added++
		if IsConversion(l.in.Type) {
			stats.Queue(query("bump_conversion_stats"), contactIDs[i], l.in.Value, *l.in.OccurredAt)
		}
	}
	if stats.Len() > 0 {
		if err := tx.SendBatch(ctx, stats).Close(); err != nil {
			return fmt.Errorf("import events: stats: %w", err)
		}
	}
	res.Inserted += added
	res.Skipped += skipped
	slices.SortFunc(rejected, func(a, b Rejection) int { return a.Line - b.Line })
	for _, r := range rejected {
		res.reject(r)
	}
	return nil
}

// eventContacts reads the contacts a batch names, by id and by email,
// creating those of unknown emails when create is set.
func eventContacts(ctx context.Context, tx pgx.Tx, batch []eventLine, create bool) (map[int64]importedContact, map[string]importedContact, error) {
	var ids []int64
	var emails []string
	for _, l := range batch {
		if l.in.ContactID != 0 {
			ids = append(ids, l.in.ContactID)
		} else {
			emails = append(emails, strings.ToLower(l.in.Email))
		}
	}
	byID := map[int64]importedContact{}
	byEmail := map[string]importedContact{}
	read := func(sql string, arg any) error {
		rows, err := tx.Query(ctx, sql, arg)
		if err != nil {
			return fmt.Errorf("import events: contacts: %w", err)
		}
		var c importedContact
		var status string
		_, err = pgx.ForEachRow(rows, []any{&c.id, &status, &c.email}, func() error {
			c.erased = status == StatusErased
			byID[c.id], byEmail[c.email] = c, c
			return nil
		})
		if err != nil {
			return fmt.Errorf("import events: contacts: %w", err)
		}
		return nil
	}
	if len(ids) > 0 {
		if err := read(query("event_import_contacts_by_id"), ids); err != nil {
			return nil, nil, err
		}
	}
	if len(emails) > 0 {
		if err := read(query("event_import_contacts_by_email"), emails); err != nil {
			return nil, nil, err
		}
	}
	if create {
		var missing []string
		for _, l := range batch {
			if l.in.ContactID == 0 {
				if _, ok := byEmail[strings.ToLower(l.in.Email)]; !ok {
					missing = append(missing, l.in.Email)
				}
			}
		}
		if len(missing) > 0 {
			if _, err := tx.Exec(ctx, query("event_import_create_contacts"), missing); err != nil {
				return nil, nil, fmt.Errorf("import events: create contacts: %w", err)
			}
			if err := read(query("event_import_contacts_by_email"), lower(missing)); err != nil {
				return nil, nil, err
			}
		}
	}
	return byID, byEmail, nil
}

func lower(xs []string) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = strings.ToLower(x)
	}
	return out
}

// resolveEventContact finds a line's contact, or says why the line is
// refused.
func resolveEventContact(in EventInput, byID map[int64]importedContact, byEmail map[string]importedContact) (importedContact, string) {
	var c importedContact
	var ok bool
	if in.ContactID != 0 {
		if c, ok = byID[in.ContactID]; !ok {
			return c, fmt.Sprintf("no contact with contact_id %d", in.ContactID)
		}
		if in.Email != "" && strings.ToLower(in.Email) != c.email {
			return c, fmt.Sprintf("email %s does not belong to contact %d", in.Email, in.ContactID)
		}
	} else if c, ok = byEmail[strings.ToLower(in.Email)]; !ok {
		return c, fmt.Sprintf("no contact with email %s: import the contact first, or choose to create missing contacts", in.Email)
	}
	if c.erased {
		return c, fmt.Sprintf("contact %d was erased", c.id)
	}
	return c, ""
}

// insertEvents inserts rows and says which were stored; conflicts lists
// the keys of rows that were not (already stored, or repeated in the
// batch).
func insertEvents(ctx context.Context, tx pgx.Tx, rows []eventLine, contactIDs []int64) (inserted []bool, conflicts []string, err error) {
	n := len(rows)
	inserted = make([]bool, n)
	if n == 0 {
		return inserted, nil, nil
	}
	// A key repeated in the batch is sent once; the repeats are conflicts.
	first := map[string]int{}
	var send []int
	for i, l := range rows {
		k := l.in.IdempotencyKey
		if k != "" {
			if _, dup := first[k]; dup {
				conflicts = append(conflicts, k)
				continue
			}
			first[k] = i
		}
		send = append(send, i)
	}
	cs, types, values, curs := make([]int64, len(send)), make([]string, len(send)), make([]float64, len(send)), make([]string, len(send))
	attrs, occurred, keys, digests := make([]map[string]any, len(send)), make([]time.Time, len(send)), make([]string, len(send)), make([]string, len(send))
	for j, i := range send {
		in := rows[i].in
		cs[j], types[j], values[j], curs[j] = contactIDs[i], in.Type, in.Value, in.Currency
		attrs[j], occurred[j], keys[j] = in.Attributes, *in.OccurredAt, in.IdempotencyKey
		if in.IdempotencyKey != "" {
			digests[j] = eventDigest(in)
		}
	}
	got, err := tx.Query(ctx, query("event_import_insert"), cs, types, values, curs, attrs, occurred, keys, digests)
	if err != nil {
		return nil, nil, fmt.Errorf("import events: insert: %w", err)
	}
	stored := map[string]bool{}
	var key string
	if _, err := pgx.ForEachRow(got, []any{&key}, func() error {
		stored[key] = true
		return nil
	}); err != nil {
		return nil, nil, fmt.Errorf("import events: insert: %w", err)
	}
	for _, i := range send {
		k := rows[i].in.IdempotencyKey
		if k == "" || stored[k] {
			inserted[i] = true
		} else {
			conflicts = append(conflicts, k)
		}
	}
	return inserted, conflicts, nil
}

// storedDigests reads the digests stored under the conflicting keys.
func storedDigests(ctx context.Context, tx pgx.Tx, keys []string) (map[string]string, error) {
	out := map[string]string{}
	if len(keys) == 0 {
		return out, nil
	}
	got, err := tx.Query(ctx, query("event_import_stored_keys"), keys)
	if err != nil {
		return nil, fmt.Errorf("import events: keys: %w", err)
	}
	var k, d string
	if _, err := pgx.ForEachRow(got, []any{&k, &d}, func() error {
		out[k] = d
		return nil
	}); err != nil {
		return nil, fmt.Errorf("import events: keys: %w", err)
	}
	return out, nil
}
