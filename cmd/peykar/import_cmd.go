package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/peykar/peykar/campaigns/contacts"
)

// errImportUsage marks a mistake on the import command line (exit code 2).
var errImportUsage = errors.New("usage: peykar import [--mode upsert|skip-existing] [--delimiter comma|semicolon|tab] [--tag-separator semicolon|comma|pipe|space] FILE.csv\n       peykar import --events [--create-contacts] [--delimiter comma|semicolon|tab] FILE.csv")

// Import runs `peykar import [--mode …] [--delimiter …] [--tag-separator …]
// FILE.csv`: it imports the file into the database (the embedded one unless
// DATABASE_URL is set), reports progress on stderr and the outcome, with
// every rejected line, on stdout. The choices are the import page's and
// the API's (contacts.ImportOptions).
func (m *Main) Import(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	fs.SetOutput(stderr)
	mode := fs.String("mode", contacts.ModeUpsert, "upsert (update existing contacts) or skip-existing")
	delimiter := fs.String("delimiter", contacts.DelimiterComma, "what separates the file's columns: comma, semicolon or tab")
	tagSep := fs.String("tag-separator", contacts.TagsSemicolon, "what separates the tags in the tags column: semicolon (also |), comma, pipe or space")
	events := fs.Bool("events", false, "the file holds contact events (email or contact_id, type, occurred_at, value, currency, idempotency_key, attr.*), not contacts")
	createContacts := fs.Bool("create-contacts", false, "with --events: create the contact of an unknown email instead of refusing the line")
	if err := fs.Parse(args); err != nil {
		return errImportUsage
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(stderr, errImportUsage)
		return errImportUsage
	}
	defer m.Close()
	if err := m.openDatabase(ctx); err != nil {
		return err
	}
	if *events {
		return m.importEvents(ctx, fs.Arg(0), contacts.EventImportOptions{Delimiter: *delimiter, CreateContacts: *createContacts}, stderr)
	}
	start := time.Now()
	opts := contacts.ImportOptions{Mode: *mode, Delimiter: *delimiter, TagSeparator: *tagSep}
	res, err := contacts.ImportFile(ctx, m.pool, fs.Arg(0), opts, func(p contacts.Progress) {
		fmt.Fprintf(stderr, "\r%d rows read, %d inserted, %d updated, %d rejected", p.Total, p.Inserted, p.Updated, p.RejectedCount)
	})
	fmt.Fprintln(stderr)
	if err != nil {
		return err
	}
	printRejected(m.Stdout, res)
	fmt.Fprintf(m.Stdout, "imported %s in %s: %d rows, %d inserted, %d updated, %d unchanged or skipped, %d merged repeats, %d rejected\n",
		fs.Arg(0), time.Since(start).Round(time.Millisecond), res.Total, res.Inserted, res.Updated, res.Skipped, res.Merged, res.RejectedCount)
	return nil
}

// importEvents runs `peykar import --events`: historical events, reported
// like a contacts import (progress on stderr, rejected lines and the
// outcome on stdout).
func (m *Main) importEvents(ctx context.Context, path string, opts contacts.EventImportOptions, stderr io.Writer) error {
	start := time.Now()
	res, err := contacts.ImportEventsFile(ctx, m.pool, path, opts, func(p contacts.Progress) {
		fmt.Fprintf(stderr, "\r%d lines read, %d events stored, %d rejected", p.Total, p.Inserted, p.RejectedCount)
	})
	fmt.Fprintln(stderr)
	if err != nil {
		return err
	}
	printRejected(m.Stdout, res)
	fmt.Fprintf(m.Stdout, "imported events from %s in %s: %d lines, %d stored, %d already stored (same idempotency_key), %d rejected\n",
		path, time.Since(start).Round(time.Millisecond), res.Total, res.Inserted, res.Skipped, res.RejectedCount)
	return nil
}

// printRejected lists an import's rejected lines.
func printRejected(w io.Writer, res contacts.Result) {
	for _, r := range res.Rejected {
		fmt.Fprintf(w, "line %d: %s\n", r.Line, r.Reason)
	}
	if res.RejectedCount > int64(len(res.Rejected)) {
		fmt.Fprintf(w, "… and %d more rejected lines\n", res.RejectedCount-int64(len(res.Rejected)))
	}
}
