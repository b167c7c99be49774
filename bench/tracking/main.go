// Command tracking is a load test of the click endpoint: it starts an
// embedded PostgreSQL (durable settings: fsync and synchronous_commit on),
// migrates it, inserts one campaign with many deliveries, serves the
// tracking endpoints on loopback and clicks distinct tokens from many
// concurrent clients for a fixed time. It reports clicks/s and latency
// percentiles, then checks that every 302 answered has its event stored.
//
//	go run ./bench/tracking -duration 10s -clients 160 -deliveries 200000
//
// The load generator is wrk (Debian package wrk) with a Lua script when wrk
// is on PATH, else an HTTP client in this process (-gen go). The benchmark
// runs with the Go runtime settings peykar runs with (runtimetune) and serves
// the endpoints through peykar's HTTP middleware (httpapi.Middleware).
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/peykar/peykar/bench/internal/benchdb"
	"github.com/peykar/peykar/internal/httpapi"
	"github.com/peykar/peykar/internal/pgserver"
	"github.com/peykar/peykar/internal/runtimetune"
	"github.com/peykar/peykar/migrations"
	"github.com/peykar/peykar/tracking"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// gcPercent is the GC setting peykar runs with (runtimetune), which the
// benchmark applies too.
var gcPercent = runtimetune.DefaultGCPercent

func run() error {
	runtimetune.Apply() // as peykar itself runs
	gcPercent = debug.SetGCPercent(-1)
	debug.SetGCPercent(gcPercent)
	duration := flag.Duration("duration", 10*time.Second, "how long to click")
	clients := flag.Int("clients", 160, "concurrent HTTP clients (keep-alive connections)")
	deliveries := flag.Int("deliveries", 200000, "deliveries (distinct tokens: one per delivery and link)")
	links := flag.Int("links", 3, "links per message")
	dsn := flag.String("dsn", "", "use this database instead of an embedded one (it is migrated and written to)")
	batch := flag.Int("batch", 500, "writer batch size")
	wait := flag.Duration("wait", 0, "writer batch wait (0: tracking's default)")
	writers := flag.Int("writers", 0, "concurrent writer transactions (0: tracking's default)")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the run here")
	statements := flag.Bool("statements", false, "embedded database only: print the statements that took the database's time (pg_stat_statements)")
	genFlag := flag.String("gen", "", "load generator: wrk (default when wrk is on PATH) or go (in this process)")
	threads := flag.Int("threads", 2, "wrk threads")
	months := flag.Int("months", 0, "months of event partitions before this one (a year of history kept: 12)")
	flag.Parse()
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		defer pprof.StopCPUProfile()
		startProfile = func() { _ = pprof.StartCPUProfile(f) }
	}
	ctx := context.Background()
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

	pgData := ""
	if *dsn == "" {
		dir, err := os.MkdirTemp("", "pkb")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		srv, err := pgserver.Start(ctx, pgserver.Config{Dir: filepath.Join(dir, "pg"), Logger: logger,
			Settings: settings(*statements)})
		if err != nil {
			return err
		}
		defer func() { _ = srv.ForceStop(context.Background()) }()
		pgData = filepath.Join(srv.Dir(), "data")
		*dsn = srv.DSN("postgres")
	}
	pcfg, err := pgxpool.ParseConfig(*dsn)
	if err != nil {
		return err
	}
	pcfg.MaxConns = 16
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return err
	}
	defer pool.Close()
	if err := migrations.Migrate(ctx, pool, logger); err != nil {
		return err
	}
	if _, err := tracking.EnsurePartitions(ctx, pool, time.Now().AddDate(0, -*months, 0), *months); err != nil {
		return err
	}
	if *statements {
		if _, err := pool.Exec(ctx, `CREATE EXTENSION IF NOT EXISTS pg_stat_statements`); err != nil {
			return err
		}
	}
	campaign, first, err := seed(ctx, pool, *deliveries, *links)
	if err == nil {
		err = settle(ctx, pool)
	}
	if *statements {
		if _, err := pool.Exec(ctx, `SELECT pg_stat_statements_reset(), pg_stat_reset_shared('wal'), pg_stat_reset()`); err != nil {
			return err
		}
	}
	if err != nil {
		return err
	}

	signer := tracking.NewSigner(tracking.Keys{Current: []byte("bench secret bench secret bench secret")})
	svc, err := tracking.NewService(tracking.Config{Pool: pool, Signer: signer, Logger: logger, BatchSize: *batch, BatchWait: *wait, Writers: *writers})
	if err != nil {
		return err
	}
	if err := svc.Start(ctx); err != nil {
		return err
	}
	// Served as peykar serves it: the same error handler and middleware
	// (request id, recovery, access log, body limit, Prometheus metrics).
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.IPExtractor = echo.ExtractIPDirect()
	e.HTTPErrorHandler = httpapi.ErrorHandler(logger)
	e.Use(httpapi.Middleware(logger, prometheus.NewRegistry())...)
	svc.Routes(e, e.Group("/api/v1"))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: e, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hs.Serve(ln) }() // ErrServerClosed at the end of the run
	base := "http://" + ln.Addr().String()

	// Distinct tokens, shuffled so no message has its links clicked together.
	urls := make([]string, 0, *deliveries**links)
	for d := range *deliveries {
		for l := range *links {
			urls = append(urls, signer.ClickURL(base, first+int64(d), l, ""))
		}
	}
	rand.Shuffle(len(urls), func(i, j int) { urls[i], urls[j] = urls[j], urls[i] })

	gen := *genFlag
	if gen == "" {
		gen = "go"
		if _, err := exec.LookPath("wrk"); err == nil {
			gen = "wrk"
		}
	}
	fmt.Printf("machine: %d CPUs (%s/%s), load average %s; generator %s; %d connections, %d distinct tokens, batch %d/%s, %d writers, GOGC %d\n",
		runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, benchdb.LoadAvg(), gen, *clients, len(urls), *batch, tracking.Config{BatchWait: *wait}.WithDefaults().BatchWait, tracking.Config{Writers: *writers}.WithDefaults().Writers, gcPercent)
	var res clickResult
	switch gen {
	case "go":
		res = clickGo(ln.Addr().String(), urls, *clients, *duration, pgData)
	case "wrk":
		res, err = clickWrk(ctx, base, urls, *threads, *clients, *duration, pgData, svc)
		if err != nil {
			return err
		}
	default:
		return fmt.Errorf("-gen %q: want go or wrk", gen)
	}
	pprof.StopCPUProfile()
	_ = hs.Close()
	if err := svc.Close(ctx); err != nil {
		return err
	}
	var stored, human, rolled int64
	if err := pool.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE NOT machine) FROM events WHERE campaign_id = $1 AND type = 'click'`, campaign).Scan(&stored, &human); err != nil {
		return err
	}
	if err := pool.QueryRow(ctx, `SELECT coalesce(sum(count), 0) FROM rollups WHERE campaign_id = $1 AND metric = 'clicks'`, campaign).Scan(&rolled); err != nil {
		return err
	}
	if *statements {
		if err := printStatements(ctx, pool); err != nil {
			return err
		}
	}
	st := svc.Stats()
	found := res.found
	fmt.Printf("clicks: %d in %.2fs = %.0f clicks/s; latency p50 %s p90 %s p99 %s max %s; other answers/errors %d\n",
		found, res.elapsed.Seconds(), float64(found)/res.elapsed.Seconds(),
		res.p50.Round(time.Microsecond), res.p90.Round(time.Microsecond), res.p99.Round(time.Microsecond), res.max.Round(time.Microsecond), res.other)
	fmt.Printf("writer: %d events in %d commits (%.0f events/commit)\n", st.Events, st.Commits, float64(st.Events)/float64(max(st.Commits, 1)))
	if found > 0 {
		self, db, g := res.cpu.Self, res.cpu.DB, res.genCPU
		perClick := (self + db + g) / time.Duration(found)
		who := "load generator + server + writer"
		if gen == "wrk" {
			who = "server + writer"
		}
		fmt.Printf("cpu: this process (%s) %.2fs, wrk %.2fs, PostgreSQL %.2fs = %s per click (process %s, wrk %s, PostgreSQL %s); %d cores fully ours would do ~%.0f clicks/s\n",
			who, self.Seconds(), g.Seconds(), db.Seconds(), perClick.Round(time.Microsecond),
			(self / time.Duration(found)).Round(time.Microsecond), (g / time.Duration(found)).Round(time.Microsecond), (db / time.Duration(found)).Round(time.Microsecond),
			runtime.NumCPU(), float64(runtime.NumCPU())/perClick.Seconds())
	}
	fmt.Printf("load average after: %s\n", benchdb.LoadAvg())
	fmt.Printf("302 answers %d, click events stored %d (human %d), rollup clicks %d\n", found, stored, human, rolled)
	if stored != found || rolled != stored {
		return fmt.Errorf("MISMATCH: %d redirects answered but %d events stored and %d counted", found, stored, rolled)
	}
	fmt.Println("OK: every 302 has its event stored and counted")
	return nil
}

// seed inserts a campaign with links and n contacts and deliveries sent an
// hour ago, returning the campaign and the first delivery id (ids are
// consecutive).
func seed(ctx context.Context, pool *pgxpool.Pool, n, links int) (int64, int64, error) {
	var campaign int64
	if err := pool.QueryRow(ctx, `INSERT INTO campaigns (name, status, settings) VALUES ('bench', 'running', '{"utm":{"source":"peykar","medium":"email"}}') RETURNING id`).Scan(&campaign); err != nil {
		return 0, 0, err
	}
	if _, err := pool.Exec(ctx, `INSERT INTO campaign_links (campaign_id, step, idx, url)
		SELECT $1, 'main', i, 'https://shop.example/p/' || i FROM generate_series(0, $2 - 1) i`, campaign, links); err != nil {
		return 0, 0, err
	}
	tag := fmt.Sprintf("%d", time.Now().UnixNano())
	if _, err := pool.Exec(ctx, `INSERT INTO contacts (email) SELECT 'b' || i || '-' || $2 || '@example.com' FROM generate_series(1, $1) i`, n, tag); err != nil {
		return 0, 0, err
	}
	var first int64
	if err := pool.QueryRow(ctx, `WITH ins AS (
			INSERT INTO deliveries (campaign_id, step, contact_id, status, sent_at)
			SELECT $1, 'main', id, 'sent', now() - interval '1 hour' FROM contacts WHERE email LIKE '%-' || $2 || '@example.com' ORDER BY id
			RETURNING id)
		SELECT min(id) FROM ins`, campaign, tag).Scan(&first); err != nil {
		return 0, 0, err
	}
	var count, last int64
	if err := pool.QueryRow(ctx, `SELECT count(*), max(id) FROM deliveries WHERE campaign_id = $1`, campaign).Scan(&count, &last); err != nil {
		return 0, 0, err
	}
	if last-first+1 != count {
		return 0, 0, fmt.Errorf("seed: delivery ids are not consecutive")
	}
	return campaign, first, nil
}

var startProfile = func() {}

func settings(statements bool) map[string]string {
	s := map[string]string{"max_connections": "100", "shared_buffers": "256MB"}
	if statements {
		s["shared_preload_libraries"] = "pg_stat_statements"
	}
	return s
}

// settle brings the seeded database to the state of one that has been
// running: tables vacuumed and analysed (hint bits set, visibility maps
// current, so autovacuum does not start on them during the run) and a
// checkpoint taken, which leaves the seed's WAL segments recycled for the
// run to write into instead of creating and zero-filling new ones.
func settle(ctx context.Context, pool *pgxpool.Pool) error {
	for _, q := range []string{`VACUUM (ANALYZE) contacts, campaigns, campaign_links, deliveries, events, rollups`, `CHECKPOINT`} {
		if _, err := pool.Exec(ctx, q); err != nil {
			return fmt.Errorf("settle: %s: %w", q, err)
		}
	}
	return nil
}

// printStatements shows where the database spent its time during the run.
func printStatements(ctx context.Context, pool *pgxpool.Pool) error {
	rows, err := pool.Query(ctx, `SELECT calls, round(total_exec_time)::bigint, rows, left(regexp_replace(query, '\s+', ' ', 'g'), 90)
		FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT 12`)
	if err != nil {
		return err
	}
	defer rows.Close()
	trows, err := pool.Query(ctx, `SELECT relname, n_tup_ins, n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables
		WHERE relname IN ('events', 'deliveries', 'contacts', 'rollups') ORDER BY relname`)
	if err != nil {
		return err
	}
	for trows.Next() {
		var name string
		var ins, upd, hot int64
		if err := trows.Scan(&name, &ins, &upd, &hot); err != nil {
			return err
		}
		fmt.Printf("table %s: %d inserted, %d updated (%d HOT)\n", name, ins, upd, hot)
	}
	if err := trows.Err(); err != nil {
		return err
	}
	var walRecords, walFPI, walBytes int64
	if err := pool.QueryRow(ctx, `SELECT wal_records, wal_fpi, wal_bytes::bigint FROM pg_stat_wal`).Scan(&walRecords, &walFPI, &walBytes); err != nil {
		return err
	}
	fmt.Printf("wal: %d records, %d full-page images, %d MB\n", walRecords, walFPI, walBytes>>20)
	fmt.Println("calls  total_ms  rows  statement")
	for rows.Next() {
		var calls, ms, n int64
		var q string
		if err := rows.Scan(&calls, &ms, &n, &q); err != nil {
			return err
		}
		fmt.Printf("%6d %8d %7d  %s\n", calls, ms, n, q)
	}
	return rows.Err()
}
