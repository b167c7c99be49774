// Command admin measures what the everyday admin pages and calls cost at
// scale, as users run them: it generates N contacts (attributes, tags,
// stats, about 3% unsubscribed or bounced, a suppressed domain and some
// suppressed addresses) and three finished campaigns with deliveries and
// events, builds and starts `peykar serve` as a separate process with
// DATABASE_URL, logs in through the login form and times, over R runs
// each (median, p95):
//
//   - GET /admin (the dashboard)
//   - GET /admin/contacts (the list with its total), unfiltered and with a
//     segment filter (one segment that translates to SQL, one evaluated in Go)
//   - GET /admin/segments and GET /api/v1/segments (member and sendable
//     counts), cold (each segment's rule just changed) and cached
//   - POST /api/v1/segments/builder/rule when the build has it, and
//     POST /api/v1/segments/preview (the builder's live count and sample)
//   - a bulk tag of all N contacts and a bulk export (202 to finished,
//     polling GET /api/v1/bulk/{id}), in contacts/s and rows/s
//
// It checks ground truth where cheap: the page's total against
// SELECT count(*), the tagged contacts against N, the export's rows
// against N. It prints the database's durability settings, the load
// average at start and end, and the server process's peak RSS.
//
//	go run ./bench/admin -n 100000 -runs 20
//
// It uses DATABASE_URL (written to: use a throwaway database), or starts
// a throwaway embedded PostgreSQL (fsync off, as the other benches).
// BENCH_PG_STATEMENTS=1 (embedded cluster) prints the statements that took
// the database's time during the timed part.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/peykar/peykar/bench/internal/benchdb"
	"github.com/peykar/peykar/bench/internal/benchserve"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run() error {
	n := flag.Int("n", 100000, "contacts")
	runs := flag.Int("runs", 20, "timed runs per page or call")
	flag.Parse()
	// Interrupted, the bench still stops its server and cluster.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGPIPE)
	defer stop()
	fmt.Printf("load average at start: %s\n", benchdb.LoadAvg())

	cluster, err := benchdb.OpenCluster(ctx, 4)
	if err != nil {
		return err
	}
	defer cluster.Close()
	pool := cluster.Pool
	var fsync, syncCommit string
	if err := pool.QueryRow(ctx, `SELECT current_setting('fsync'), current_setting('synchronous_commit')`).Scan(&fsync, &syncCommit); err != nil {
		return err
	}
	fmt.Printf("durability: fsync=%s synchronous_commit=%s (%s)\n", fsync, syncCommit,
		map[bool]string{true: "DATABASE_URL", false: "embedded throwaway cluster"}[os.Getenv("DATABASE_URL") != ""])

	if err := generate(ctx, pool, *n); err != nil {
		return err
	}
	if os.Getenv("BENCH_PG_STATEMENTS") == "1" { // count only the timed part
		if _, err := pool.Exec(ctx, `CREATE EXTENSION IF NOT EXISTS pg_stat_statements; SELECT pg_stat_statements_reset()`); err != nil {
			return err
		}
	}
	dir, err := os.MkdirTemp("", "pkadmin")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	srv, err := startServer(ctx, dir, cluster.DSN)
	if err != nil {
		return err
	}
	defer srv.stop()
	if err := benchserve.Settle(ctx, pool); err != nil {
		return err
	}
	b := &bench{ctx: ctx, pool: pool, srv: srv, n: *n, runs: *runs}
	if b.web, err = srv.login(ctx); err != nil {
		return err
	}
	if err := b.all(); err != nil {
		return err
	}
	benchdb.PrintStatements(ctx, pool, os.Stdout)
	fmt.Printf("load average at the end: %s\n", benchdb.LoadAvg())
	fmt.Printf("server peak RSS (VmHWM): %.0f MB\n", srv.peakRSS())
	fmt.Println()
	fmt.Printf("| N = %d, %d runs | median | p95 | note |\n|---|---:|---:|---|\n", *n, *runs)
	for _, r := range b.results {
		med, p95 := ms(r.median), ms(r.p95)
		if r.runs == 0 {
			med, p95 = "", ""
		}
		fmt.Printf("| %s | %s | %s | %s |\n", r.name, med, p95, strings.TrimSpace(r.note))
	}
	if len(b.failures) > 0 {
		return fmt.Errorf("ground truth failed: %s", strings.Join(b.failures, "; "))
	}
	return nil
}
