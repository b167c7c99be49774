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
var errImportUsage = errors.New("usage: peykar import [--mode upsert|skip-existing] FILE.csv")

// Import runs `peykar import [--mode upsert|skip-existing] FILE.csv`: it
// imports the file into the database (the embedded one unless DATABASE_URL
// is set), reports progress on stderr and the outcome, with every rejected
// line, on stdout.
func (m *Main) Import(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	fs.SetOutput(stderr)
	mode := fs.String("mode", contacts.ModeUpsert, "upsert (update existing contacts) or skip-existing")
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
	res, err := contacts.ImportFile(ctx, m.pool, fs.Arg(0), *mode, func(p contacts.Progress) {
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
