// Command journeys measures event-triggered journeys end to end: `peykar
// serve` as its own process on PostgreSQL with default durability (fsync
// and synchronous_commit on, printed), an SMTP sink in a separate process,
// a running campaign entered on the `signup` event (reentry never).
// Concurrent clients post events to POST /api/v1/events at a fixed target
// rate for a bounded time; every 20th event repeats an earlier contact
// (re-entry never: no second entry). For each contact it measures the time
// from its event's API call to the sink's acceptance of its first step,
// and prints events/s achieved, entries, first-send p50/p95/p99 and the
// CPU used by the server and PostgreSQL. Ground truth: every contact that
// posted an event has exactly one entry, one delivery and one message.
//
//	go run ./bench/journeys -rate 1000 -duration 20s
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/peykar/peykar/bench/internal/benchdb"
	"github.com/peykar/peykar/bench/internal/benchserve"
)

func main() {
	sink := flag.String("sink", "", "(internal) run as the SMTP sink, writing acceptance times to this file")
	cfg := config{}
	flag.IntVar(&cfg.rate, "rate", 1000, "target events per second")
	flag.DurationVar(&cfg.duration, "duration", 20*time.Second, "how long events are posted")
	flag.IntVar(&cfg.clients, "clients", 64, "concurrent HTTP clients")
	flag.StringVar(&cfg.bin, "bin", "", "a peykar binary to run (default: build ./cmd/peykar from this checkout), for before/after runs")
	flag.Parse()
	var err error
	if *sink != "" {
		err = runSink(*sink)
	} else {
		err = run(cfg)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

type config struct {
	rate     int
	duration time.Duration
	clients  int
	bin      string
}

func run(cfg config) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	fmt.Printf("load average at start: %s\n", benchdb.LoadAvg())
	if os.Getenv("DATABASE_URL") == "" {
		// The embedded throwaway cluster with PostgreSQL's default durability.
		if err := os.Setenv("BENCH_PG_DURABLE", "1"); err != nil {
			return err
		}
	}
	cluster, err := benchdb.OpenCluster(ctx, 8)
	if err != nil {
		return err
	}
	defer cluster.Close()
	pool := cluster.Pool
	var fsync, syncCommit string
	if err := pool.QueryRow(ctx, `SELECT current_setting('fsync'), current_setting('synchronous_commit')`).Scan(&fsync, &syncCommit); err != nil {
		return err
	}
	fmt.Printf("durability: fsync=%s synchronous_commit=%s\n", fsync, syncCommit)
	if os.Getenv("BENCH_PG_STATEMENTS") == "1" {
		if _, err := pool.Exec(ctx, `CREATE EXTENSION IF NOT EXISTS pg_stat_statements`); err != nil {
			return err
		}
	}

	total := cfg.rate * int(cfg.duration/time.Second)
	if _, err := pool.Exec(ctx, `INSERT INTO contacts (email, name)
		SELECT 'user' || i || '@example.com', 'User ' || i FROM generate_series(0, $1 - 1) i`, total); err != nil {
		return fmt.Errorf("seed contacts: %w", err)
	}
	dir, err := os.MkdirTemp("", "pkjourneys")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	sinkFile := dir + "/accepted.txt"
	sink, port, err := startSink(sinkFile)
	if err != nil {
		return err
	}
	defer sink.stop()
	srv, err := startServer(ctx, dir, cfg.bin, cluster.DSN, port)
	if err != nil {
		return err
	}
	defer srv.stop()
	if err := benchserve.Settle(ctx, pool); err != nil {
		return err
	}
	if os.Getenv("BENCH_PG_STATEMENTS") == "1" {
		// The statements of the measured window only, not the start-up's.
		if _, err := pool.Exec(ctx, `SELECT pg_stat_statements_reset()`); err != nil {
			return err
		}
	}
	api := newClient(srv.base, srv.token, cfg.clients)
	campaignID, err := api.journey(ctx)
	if err != nil {
		return err
	}
	fmt.Printf("campaign %d running: entry on signup, reentry never; %d events at %d/s from %d clients\n",
		campaignID, total, cfg.rate, cfg.clients)

	cpu0, db0 := srv.cpu(), benchdb.SampleCPU(cluster.DataDir).DB
	send0, err := scrapeSend(ctx, srv.base)
	if err != nil {
		return err
	}
	load, err := api.post(ctx, cfg.rate, total)
	if err != nil {
		return err
	}
	fmt.Printf("posted %d events in %s → %.0f events/s (%d errors)\n", total, load.elapsed.Round(time.Millisecond),
		float64(total)/load.elapsed.Seconds(), load.errors)
	drained, err := waitSent(ctx, pool, campaignID, len(load.first))
	if err != nil {
		return err
	}
	cpu := srv.cpu() - cpu0
	send1, err := scrapeSend(ctx, srv.base)
	if err != nil {
		return err
	}
	db := benchdb.SampleCPU(cluster.DataDir).DB - db0
	fmt.Printf("all first steps sent %s after the first event\n", drained.Sub(load.start).Round(time.Millisecond))
	fmt.Printf("CPU over the run: peykar %s, PostgreSQL %s (wall %s, %d cores)\n", cpu.Round(time.Millisecond),
		db.Round(time.Millisecond), drained.Sub(load.start).Round(time.Millisecond), numCPU())
	perEvent := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 / float64(total) }
	fmt.Printf("CPU per event: peykar %.2f ms, PostgreSQL %.2f ms, total %.2f ms\n", perEvent(cpu), perEvent(db), perEvent(cpu+db))
	printSendMetrics(send0, send1, drained.Sub(load.start))
	benchdb.PrintStatements(ctx, pool, os.Stdout)
	sink.stop()
	accepted, err := readSink(sinkFile)
	if err != nil {
		return err
	}
	return report(ctx, pool, campaignID, load, accepted)
}
