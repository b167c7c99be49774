// Command transactional measures the transactional API (POST
// /api/v1/messages, issue 19) end to end, as users run it: PostgreSQL with
// default durability (fsync and synchronous_commit on: an embedded cluster
// with initdb's defaults, or the server -dsn names), `peykar serve` built
// and started as its own process, an SMTP sink as another process, and N
// concurrent clients posting messages with distinct Idempotency-Keys at a
// paced rate for a fixed count. The sink notes when it accepted each
// message (its X-Peykar-Message header), the clients when they called, so
// the latency is from API call to SMTP acceptance.
//
// It prints messages/s, p50/p95/p99/max from call to acceptance, the API's
// own answer times, the CPU each process used and the server's peak RSS,
// and checks ground truth: every message delivered exactly once, and
// replayed keys answer the first answer without a second message.
//
//	go run ./bench/transactional -n 20000 -rate 1000 -clients 64
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/peykar/peykar/bench/internal/benchdb"
	"github.com/peykar/peykar/bench/internal/benchserve"
	"github.com/peykar/peykar/internal/pgserver"
	"github.com/peykar/peykar/migrations"
)

type options struct {
	n, clients, contacts, replays, warm, smtpPool int
	rate                                          float64
}

func main() {
	sink := flag.Bool("sink", false, "run as the SMTP sink process (internal)")
	sinkOut := flag.String("sink-out", "", "where the sink writes its acceptances (internal)")
	dsn := flag.String("dsn", os.Getenv("DATABASE_URL"), "PostgreSQL to use (written to: a throwaway database); default an embedded cluster with initdb's durable defaults")
	var o options
	flag.IntVar(&o.n, "n", 20000, "messages in the timed run")
	flag.IntVar(&o.clients, "clients", 64, "concurrent API clients")
	flag.Float64Var(&o.rate, "rate", 1000, "messages per second the clients offer (0: as fast as they can)")
	flag.IntVar(&o.contacts, "contacts", 10000, "existing contacts the messages go to")
	flag.IntVar(&o.replays, "replays", 200, "keys replayed after the run (each must answer its first answer and send nothing)")
	flag.IntVar(&o.warm, "warm", 500, "messages sent before the timed run (delivered and checked, not timed)")
	flag.IntVar(&o.smtpPool, "smtp-pool", 16, "the server's SMTP connections (SMTP_URL pool=)")
	flag.Parse()
	if *sink {
		if err := runSink(*sinkOut); err != nil {
			fmt.Fprintln(os.Stderr, "sink:", err)
			os.Exit(1)
		}
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *dsn, o); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, dsn string, o options) error {
	fmt.Printf("load average at start: %s\n", benchdb.LoadAvg())
	dir, err := os.MkdirTemp("", "pktx")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	pgData := ""
	if dsn == "" {
		srv, err := pgserver.Start(ctx, pgserver.Config{Dir: filepath.Join(dir, "pg"), Logger: slog.New(slog.DiscardHandler),
			Settings: map[string]string{"max_connections": "200", "shared_buffers": "256MB"}})
		if err != nil {
			return err
		}
		defer func() { _ = srv.ForceStop(context.WithoutCancel(ctx)) }()
		pgData = filepath.Join(srv.Dir(), "data")
		dsn = srv.DSN("postgres")
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return err
	}
	cfg.MaxConns = 4
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return err
	}
	defer pool.Close()
	if err := migrations.Migrate(ctx, pool, slog.New(slog.DiscardHandler)); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	var fsync, syncCommit string
	if err := pool.QueryRow(ctx, `SELECT current_setting('fsync'), current_setting('synchronous_commit')`).Scan(&fsync, &syncCommit); err != nil {
		return err
	}
	fmt.Printf("durability: fsync=%s synchronous_commit=%s (%s)\n", fsync, syncCommit,
		map[bool]string{true: "embedded cluster, initdb defaults", false: "-dsn / DATABASE_URL"}[pgData != ""])
	if _, err := pool.Exec(ctx, `INSERT INTO contacts (email, name) SELECT 'user' || i || '@example.com', 'User ' || i FROM generate_series(1, $1) i`, o.contacts); err != nil {
		return fmt.Errorf("seed contacts: %w", err)
	}
	for _, q := range []string{`VACUUM (ANALYZE) contacts`, `CHECKPOINT`} {
		if _, err := pool.Exec(ctx, q); err != nil {
			return err
		}
	}

	sink, err := startSink(dir)
	if err != nil {
		return err
	}
	stopped := false
	defer func() {
		if !stopped {
			_, _ = sink.stop()
		}
	}()
	srv, err := startServer(ctx, dir, dsn, fmt.Sprintf("smtp://127.0.0.1:%d?tls=none&pool=%d", sink.port, o.smtpPool))
	if err != nil {
		return err
	}
	defer srv.stop()
	if err := benchserve.Settle(ctx, pool); err != nil {
		return err
	}
	b := &bench{ctx: ctx, pool: pool, srv: srv, o: o, pgData: pgData}
	if err := b.run(); err != nil {
		return err
	}
	acc, err := sink.stop()
	stopped = true
	if err != nil {
		return err
	}
	return b.report(acc)
}
