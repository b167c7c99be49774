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
var errImportUsage = errors.New("usage: peykar import [--mode upsert|skip-existing] [--delimiter comma|semicolon|tab] [--tag-separator semicolon|comma|pipe|space] FILE.csv")

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
	start := time.Now()
	opts := contacts.ImportOptions{Mode: *mode, Delimiter: *delimiter, TagSeparator: *tagSep}
	res, err := contacts.ImportFile(ctx, m.pool, fs.Arg(0), opts, func(p contacts.Progress) {
		fmt.Fprintf(stderr, "\r%d rows read, %d inserted, %d updated, %d rejected", p.Total, p.Inserted, p.Updated, p.RejectedCount)
	})
	fmt.Fprintln(stderr)
	if err != nil {
		return err
	}
	for _, r := range res.Rejected {
		fmt.Fprintf(m.Stdout, "line %d: %s\n", r.Line, r.Reason)
	}
	if res.RejectedCount > int64(len(res.Rejected)) {
		fmt.Fprintf(m.Stdout, "… and %d more rejected lines\n", res.RejectedCount-int64(len(res.Rejected)))
	}
	fmt.Fprintf(m.Stdout, "imported %s in %s: %d rows, %d inserted, %d updated, %d unchanged or skipped, %d merged repeats, %d rejected\n",
		fs.Arg(0), time.Since(start).Round(time.Millisecond), res.Total, res.Inserted, res.Updated, res.Skipped, res.Merged, res.RejectedCount)
	return nil
}
