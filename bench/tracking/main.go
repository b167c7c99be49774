// Command tracking is a load test of the click endpoint as a deployment
// runs it: an embedded PostgreSQL with default durability (fsync and
// synchronous_commit on, 256 MB shared buffers; -unsafe turns both off and
// says so), migrated and seeded with one campaign and many deliveries,
// `peykar serve` started as its own process against it, and distinct
// tokens clicked from many keep-alive connections for a fixed time. It
// reports clicks/s and latency percentiles, the ceiling measured in the
// same run (the same wrk run against a trivial HTTP server answering 302:
// ceiling.go), CPU per click split into peykar, PostgreSQL and the load
// generator, peykar's peak RSS, and checks the ground truth: every 302
// answered has its click event stored and counted in the rollups.
//
//	go run ./bench/tracking -duration 10s -clients 128 -deliveries 200000
//
// -bin runs a prebuilt peykar binary instead of building this checkout
// (before/after comparisons). The load generator is wrk (Debian package
// wrk) with a Lua script when wrk is on PATH, else an HTTP client in this
// process (-gen go).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/peykar/peykar/bench/internal/benchdb"
	"github.com/peykar/peykar/bench/internal/benchserve"
	"github.com/peykar/peykar/internal/pgserver"
	"github.com/peykar/peykar/tracking"
)

// benchSecret is the PEYKAR_SECRET benchserve starts peykar with: the
// benchmark signs its click tokens with it.
const benchSecret = "bench-secret-0123456789abcdefghijklmnopqrstuvwxyz"

func main() {
	ceilingServer := flag.Bool("ceiling-server", false, "(internal) run as the ceiling's trivial HTTP server")
	var cfg config
	flag.DurationVar(&cfg.duration, "duration", 10*time.Second, "how long to click")
	flag.IntVar(&cfg.clients, "clients", 128, "concurrent HTTP clients (keep-alive connections)")
	flag.IntVar(&cfg.deliveries, "deliveries", 200000, "deliveries (distinct tokens: one per delivery and link)")
	flag.IntVar(&cfg.links, "links", 3, "links per message")
	flag.StringVar(&cfg.dsn, "dsn", "", "use this database instead of an embedded one (it is migrated and written to; no PostgreSQL CPU then)")
	flag.StringVar(&cfg.bin, "bin", "", "run this peykar binary (default: build ./cmd/peykar from this checkout)")
	flag.BoolVar(&cfg.hugePages, "hugepages", false, "run the embedded PostgreSQL with huge_pages = on (reserve vm.nr_hugepages first; printed in the durability line)")
	flag.StringVar(&cfg.pgset, "pgset", "", "extra PostgreSQL server settings of the embedded cluster, name=value,name=value (e.g. wal_sync_method=open_datasync); printed and labelled: not the default cluster")
	flag.BoolVar(&cfg.unsafe, "unsafe", false, "UNSAFE: run the embedded PostgreSQL with fsync and synchronous_commit off (labelled in the output)")
	flag.BoolVar(&cfg.ceiling, "ceiling", true, "also measure the ceiling: the same wrk run against a trivial 302 server")
	flag.BoolVar(&cfg.statements, "statements", false, "embedded database only: print the statements that took the database's time (pg_stat_statements)")
	flag.StringVar(&cfg.gen, "gen", "", "load generator: wrk (default when wrk is on PATH) or go (in this process)")
	flag.IntVar(&cfg.threads, "threads", 2, "wrk threads")
	flag.IntVar(&cfg.months, "months", 0, "months of event partitions before this one (a year of history kept: 12)")
	flag.DurationVar(&cfg.settle, "settle", time.Minute, "how long derived state (rollups) may take to catch up with the events after the run")
	flag.StringVar(&cfg.explain, "explain", "", "embedded database only: log the plans of statements slower than -explain-min with auto_explain (analyze, buffers, no timing; nested statements: triggers' too) and copy the server log to this file after the run")
	flag.DurationVar(&cfg.explainMin, "explain-min", 3*time.Millisecond, "with -explain: the statements whose plans are logged take at least this long (0: all, see -explain-sample)")
	flag.Float64Var(&cfg.explainSample, "explain-sample", 1, "with -explain: the fraction of statements auto_explain considers (1: all)")
	flag.IntVar(&cfg.backlog, "backlog", 0, "instead of the timed run: answer this many clicks while the follower is held off (its advisory lock), then measure the time, CPU and WAL to fold them all (0: off)")
	flag.BoolVar(&cfg.writes, "writes", false, "print what the window wrote per click: each table's row versions inserted, updated (HOT) and deleted (pg_stat_user_tables) and the WAL records by type and relation, index tuples and row locks included (pg_walinspect); waits 11 s for the counters (with -backlog: the fold alone)")
	flag.StringVar(&cfg.profile, "cpuprofile", "", "save a CPU profile of peykar serve over the clicking window (-duration, from the first click) to this file (PEYKAR_PPROF)")
	flag.BoolVar(&cfg.trackingListener, "tracking-listener", false, "start peykar with PEYKAR_TRACKING_ADDR and click there (the fasthttp tracking listener) instead of on its main listener (labelled in the output)")
	flag.Parse()
	if *ceilingServer {
		if err := serveCeiling(); err != nil {
			fmt.Fprintln(os.Stderr, "ceiling:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(context.Background(), cfg); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

type config struct {
	duration                                    time.Duration
	clients, deliveries, links, threads, months int
	backlog                                     int
	dsn, bin, gen, profile, explain             string
	pgset                                       string // extra server settings, name=value,… (labelled)
	explainMin                                  time.Duration
	explainSample                               float64
	unsafe, ceiling, statements, hugePages      bool
	writes                                      bool
	settle                                      time.Duration
	pprofAddr                                   string // peykar's profile listener, with -cpuprofile
	trackingListener                            bool   // click on PEYKAR_TRACKING_ADDR (fasthttp) instead of PEYKAR_ADDR
}

func run(ctx context.Context, cfg config) error {
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	fmt.Printf("load average at start: %s\n", benchdb.LoadAvg())
	dir, err := os.MkdirTemp("", "pkb")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	pgData := ""
	if cfg.dsn == "" {
		srv, err := pgserver.Start(ctx, pgserver.Config{Dir: filepath.Join(dir, "pg"), Logger: logger,
			Settings: settings(cfg)})
		if err != nil {
			return err
		}
		defer func() {
			_ = srv.ForceStop(context.WithoutCancel(ctx))
			// After the stop: the log is complete.
			if cfg.explain != "" {
				if err := copyFile(filepath.Join(srv.Dir(), "postgres.log"), cfg.explain); err != nil {
					fmt.Fprintln(os.Stderr, "bench: copy the server log:", err)
				} else {
					fmt.Printf("plans (auto_explain) in %s\n", cfg.explain)
				}
			}
		}()
		pgData = filepath.Join(srv.Dir(), "data")
		cfg.dsn = srv.DSN("postgres")
	}
	pcfg, err := pgxpool.ParseConfig(cfg.dsn)
	if err != nil {
		return err
	}
	pcfg.MaxConns = 4
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return err
	}
	defer pool.Close()
	if err := printDurability(ctx, pool); err != nil {
		return err
	}
	if err := benchdb.PrintExtraSettings(ctx, pool, cfg.pgset); err != nil {
		return err
	}
	probe, err := newProbes(ctx, cfg.dsn)
	if err != nil {
		return err
	}
	defer probe.Close()
	bin := cfg.bin
	if bin == "" {
		if bin, err = benchserve.Build(ctx, dir); err != nil {
			return err
		}
	}
	// The binary measured migrates the database, so a binary built from
	// another commit (-bin) runs on its own schema.
	migrate := exec.CommandContext(ctx, bin, "migrate")
	migrate.Env = append(os.Environ(), "DATABASE_URL="+cfg.dsn, "PEYKAR_DATA_DIR="+filepath.Join(dir, "data"), "PEYKAR_SECRET="+benchSecret, "PEYKAR_LOG_LEVEL=warn")
	migrate.Stdout, migrate.Stderr = os.Stderr, os.Stderr
	if err := migrate.Run(); err != nil {
		return fmt.Errorf("%s migrate: %w", bin, err)
	}
	if _, err := tracking.EnsurePartitions(ctx, pool, time.Now().AddDate(0, -cfg.months, 0), cfg.months); err != nil {
		return err
	}
	if cfg.statements {
		if _, err := pool.Exec(ctx, `CREATE EXTENSION IF NOT EXISTS pg_stat_statements`); err != nil {
			return err
		}
	}
	campaign, first, err := seed(ctx, pool, cfg.deliveries, cfg.links)
	if err != nil {
		return err
	}

	var extra []string
	if cfg.profile != "" {
		if cfg.pprofAddr, err = benchserve.FreeLoopback(); err != nil {
			return err
		}
		extra = append(extra, "PEYKAR_PPROF="+cfg.pprofAddr)
	}
	var trackingAddr string
	if cfg.trackingListener {
		if trackingAddr, err = benchserve.FreeLoopback(); err != nil {
			return err
		}
		extra = append(extra, "PEYKAR_TRACKING_ADDR="+trackingAddr)
	}
	srv, err := benchserve.StartPeykar(ctx, bin, dir, cfg.dsn, "", extra...)
	if err != nil {
		return err
	}
	defer srv.Stop()
	listener := "main listener (PEYKAR_ADDR, net/http)"
	if cfg.trackingListener {
		// Every click below goes to srv.Base: the tracking listener's.
		srv.Base = "http://" + trackingAddr
		if err := benchserve.WaitReady(srv.Base, time.Minute); err != nil {
			return fmt.Errorf("tracking listener: %w", err)
		}
		listener = "tracking listener (PEYKAR_TRACKING_ADDR, fasthttp)"
	}
	// peykar serve has started its workers; settle after, so the run
	// starts on a database that has been running, and let the jobs it runs
	// at start (the analytics recompute over every contact, rollup folding)
	// finish first: one overlapping the clicks costs more database CPU
	// than the clicks themselves.
	if err := quiesce(ctx, pool, 5*time.Minute); err != nil {
		return err
	}
	if err := settle(ctx, pool); err != nil {
		return err
	}
	if cfg.statements {
		if _, err := pool.Exec(ctx, `SELECT pg_stat_statements_reset(), pg_stat_reset_shared('wal'), pg_stat_reset()`); err != nil {
			return err
		}
	}

	// Distinct tokens, shuffled so no message has its links clicked together.
	signer := tracking.NewSigner(tracking.Keys{Current: []byte(benchSecret)})
	urls := make([]string, 0, cfg.deliveries*cfg.links)
	for d := range cfg.deliveries {
		for l := range cfg.links {
			urls = append(urls, signer.ClickURL(srv.Base, first+int64(d), l, ""))
		}
	}
	rand.Shuffle(len(urls), func(i, j int) { urls[i], urls[j] = urls[j], urls[i] })

	gen := cfg.gen
	if gen == "" {
		gen = "go"
		if _, err := exec.LookPath("wrk"); err == nil {
			gen = "wrk"
		}
	}
	fmt.Printf("machine: %d CPUs (%s/%s), load average %s; generator %s; %d connections, %d distinct tokens; peykar serve as its own process (%s); clicks to its %s\n",
		runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, benchdb.LoadAvg(), gen, cfg.clients, len(urls), bin, listener)
	var res, ceil clickResult
	var before map[string]tableWrites
	if cfg.writes && cfg.backlog == 0 {
		if before, err = writeCounts(ctx, pool); err != nil {
			return err
		}
	}
	if cfg.backlog > 0 {
		res, err = backlog(ctx, cfg, urls, srv, pool, probe, pgData)
	} else {
		res, ceil, err = click(ctx, cfg, gen, dir, urls, srv, pool, probe, pgData)
	}
	if err != nil {
		return err
	}
	rss := srv.PeakRSS()
	settled, err := waitSettled(ctx, pool, campaign, cfg.settle)
	if err != nil {
		return err
	}
	var stored, human, rolled int64
	if err := pool.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE NOT machine) FROM events WHERE campaign_id = $1 AND type = 'click'`, campaign).Scan(&stored, &human); err != nil {
		return err
	}
	if err := pool.QueryRow(ctx, `SELECT coalesce(sum(count), 0) FROM rollups WHERE campaign_id = $1 AND metric = 'clicks'`, campaign).Scan(&rolled); err != nil {
		return err
	}
	if cfg.writes {
		if res.writesBefore != nil {
			before = res.writesBefore
		}
		if err := printWrites(ctx, pool, before, res.walFrom, res.walTo, res.found); err != nil {
			return err
		}
	}
	if cfg.statements {
		if err := printStatements(ctx, pool, res); err != nil {
			return err
		}
	}
	if cfg.backlog == 0 {
		report(res, ceil, gen, rss)
	}
	fmt.Printf("load average after: %s\n", benchdb.LoadAvg())
	fmt.Printf("302 answers %d, click events stored %d (human %d), rollup clicks %d (settled %s after the last click was answered)\n",
		res.found, stored, human, rolled, settled.Round(time.Millisecond))
	if stored != res.found || rolled != stored {
		return fmt.Errorf("MISMATCH: %d redirects answered but %d events stored and %d counted", res.found, stored, rolled)
	}
	fmt.Println("OK: every 302 has its event stored and counted")
	return nil
}

// click runs the ceiling (when asked, and only with wrk) and then the
// clicks on peykar, sampling CPU around each.
func click(ctx context.Context, cfg config, gen, dir string, urls []string, srv *benchserve.Peykar, pool *pgxpool.Pool, probe *probes, pgData string) (res, ceil clickResult, err error) {
	if gen == "go" {
		c0, p0 := benchdb.SampleCPU(pgData), srv.CPU()
		res = clickGo(srv.Base[len("http://"):], urls, cfg.clients, cfg.duration, pgData)
		res.cpu, res.appCPU = benchdb.SampleCPU(pgData).Sub(c0), srv.CPU()-p0
		res.genCPU = res.cpu.Self
		res.walBytes = -1
		return res, clickResult{}, nil
	}
	if gen != "wrk" {
		return res, ceil, fmt.Errorf("-gen %q: want go or wrk", gen)
	}
	pathFile, err := writePaths(dir, urls, cfg.threads)
	if err != nil {
		return res, ceil, err
	}
	if cfg.ceiling {
		c, err := startCeiling()
		if err != nil {
			return res, ceil, err
		}
		var cpus []time.Duration
		ceil, err = clickWrk(ctx, c.base, pathFile, len(urls), cfg.threads, cfg.clients, cfg.duration, c.count,
			func() { cpus = append(cpus, c.cpu()) })
		if len(cpus) == 2 {
			ceil.appCPU = cpus[1] - cpus[0]
		}
		c.stop()
		if err != nil {
			return res, ceil, fmt.Errorf("ceiling: %w", err)
		}
	}
	var dbs []benchdb.CPUTime
	var apps, probed []time.Duration
	if hasInbox(ctx, pool) {
		lag := startLagSampler(ctx, probe.Pool)
		defer lag.finish()
	}
	var profiled chan error
	var lsns []string
	res, err = clickWrk(ctx, srv.Base, pathFile, len(urls), cfg.threads, cfg.clients, cfg.duration, eventProgress(ctx, probe.Pool),
		func() {
			// The WAL position first and the probes' CPU next, so the
			// WAL read falls outside the window at its start and inside
			// both the cluster's and the probes' at its end.
			lsns = append(lsns, walPosition(ctx, probe.Pool))
			probed = append(probed, probe.cpu())
			dbs, apps = append(dbs, benchdb.SampleCPU(pgData)), append(apps, srv.CPU())
			if len(apps) == 1 && cfg.profile != "" {
				profiled = make(chan error, 1)
				go func() { profiled <- benchserve.FetchProfile(ctx, cfg.pprofAddr, cfg.duration, cfg.profile) }()
			}
		})
	if profiled != nil {
		if perr := <-profiled; perr != nil {
			return res, ceil, perr
		}
		fmt.Printf("peykar serve CPU profile over the clicking window: %s (go tool pprof -top %s)\n", cfg.profile, cfg.profile)
	}
	if err != nil {
		return res, ceil, err
	}
	res.cpu, res.appCPU = dbs[1].Sub(dbs[0]), apps[1]-apps[0]
	res.chargeProbes(probed[1] - probed[0])
	res.walBytes = walBetween(ctx, pool, lsns[0], lsns[1])
	res.walFrom, res.walTo = lsns[0], lsns[1]
	return res, ceil, nil
}

// walPosition is where PostgreSQL inserts its next WAL record ("" when it
// cannot say).
func walPosition(ctx context.Context, pool *pgxpool.Pool) string {
	var lsn string
	if err := pool.QueryRow(ctx, `SELECT pg_current_wal_insert_lsn()::text`).Scan(&lsn); err != nil {
		return ""
	}
	return lsn
}

// walBetween is how many WAL bytes lie between two positions (-1 when
// either is unknown).
func walBetween(ctx context.Context, pool *pgxpool.Pool, from, to string) int64 {
	var n int64
	if from == "" || to == "" || pool.QueryRow(ctx, `SELECT pg_wal_lsn_diff($1::pg_lsn, $2::pg_lsn)::bigint`, to, from).Scan(&n) != nil {
		return -1
	}
	return n
}

// eventProgress reads how many event ids have been taken (the writer takes
// them in the transaction that stores the events) and, on a schema with
// event_inbox (migration 043), how many events wait there to be folded:
// it changes while events are written or folded and stops when both are
// done, so the CPU window includes the follower's catching up.
func eventProgress(ctx context.Context, pool *pgxpool.Pool) func() int64 {
	q := `SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM events_id_seq`
	if hasInbox(ctx, pool) {
		// The inbox's id span, not count(*): a count scans the queue
		// table (its dead rows too) on every poll and was measured at
		// 10–15 µs of PostgreSQL CPU per click, charged to the binary.
		q = `SELECT CASE WHEN is_called THEN last_value ELSE 0 END * 1000000 + ` + inboxSpan + ` FROM events_id_seq`
	}
	if hasWatermark(ctx, pool) {
		// Clicks written into events and folded by a watermark (migration
		// 053): it moves while the follower folds.
		q = `SELECT CASE WHEN is_called THEN last_value ELSE 0 END * 1000000 + (SELECT id FROM tracking_watermark) FROM events_id_seq`
	}
	return func() int64 {
		var n int64
		if err := pool.QueryRow(ctx, q).Scan(&n); err != nil {
			return -1
		}
		return n
	}
}

// inboxSpan is how many event ids event_inbox spans (0 when empty), read
// from the ends of its primary key: an upper bound of the clicks waiting
// that costs two index probes, where count(*) would scan the table.
const inboxSpan = `coalesce((SELECT max(id) FROM event_inbox) - (SELECT min(id) FROM event_inbox) + 1, 0)`

// hasWatermark says whether the measured binary's schema folds followed
// events by a watermark (migration 053): clicks written into events,
// answered before their derived state is written.
func hasWatermark(ctx context.Context, pool *pgxpool.Pool) bool {
	var ok bool
	return pool.QueryRow(ctx, `SELECT to_regclass('tracking_watermark') IS NOT NULL`).Scan(&ok) == nil && ok
}

// unfoldedFollowed reads, on a schema with a watermark, the span of ids
// handed out above it and the age of the oldest followed event above it:
// the watermark first, then one probe of events' key from it (the
// watermark as a parameter, so each partition's key is probed, never
// scanned; a first version read max(id) of events and the watermark as
// subqueries and cost 14 ms per sample).
func unfoldedFollowed(ctx context.Context, pool *pgxpool.Pool) (int64, float64, error) {
	var wm, last int64
	if err := pool.QueryRow(ctx, `SELECT w.id, CASE WHEN s.is_called THEN s.last_value ELSE 0 END FROM tracking_watermark w, events_id_seq s`).Scan(&wm, &last); err != nil {
		return 0, 0, err
	}
	if last <= wm {
		return 0, 0, nil
	}
	// Bounded above by the sequence, as the follower's own read: unbounded,
	// this probe was measured at 10 ms per sample (a generic plan).
	var age *float64
	err := pool.QueryRow(ctx, `SELECT extract(epoch FROM clock_timestamp() - occurred_at)::float8 FROM events
		WHERE followed AND id > $1 AND id <= $2 ORDER BY id LIMIT 1`, wm, last).Scan(&age)
	if errors.Is(err, pgx.ErrNoRows) {
		return max(last-wm, 0), 0, nil
	}
	if err != nil || age == nil {
		return 0, 0, err
	}
	return max(last-wm, 0), *age, nil
}

// hasInbox says whether the measured binary's schema has event_inbox:
// clicks answered before their derived state is written.
func hasInbox(ctx context.Context, pool *pgxpool.Pool) bool {
	var ok bool
	return pool.QueryRow(ctx, `SELECT to_regclass('event_inbox') IS NOT NULL`).Scan(&ok) == nil && ok
}

// lagSampler samples, every 50 ms while the clicks run, the age of the
// oldest answered click not yet folded into events and the reports (its
// occurred_at is taken when the request arrives, just before its answer;
// the oldest by id, within a group commit of the oldest by time) and how
// many wait at most (the id span): the settling time a report reader sees
// under load. Both are index probes, so sampling costs next to nothing.
type lagSampler struct {
	mu      sync.Mutex
	ages    []time.Duration
	backlog int64
	stop    chan struct{}
	done    chan struct{}
}

func startLagSampler(ctx context.Context, pool *pgxpool.Pool) *lagSampler {
	l := &lagSampler{stop: make(chan struct{}), done: make(chan struct{})}
	q := `SELECT ` + inboxSpan + `, coalesce((SELECT extract(epoch FROM clock_timestamp() - occurred_at)
				FROM event_inbox ORDER BY id LIMIT 1), 0)::float8`
	sample := func() (n int64, age float64, err error) {
		err = pool.QueryRow(ctx, q).Scan(&n, &age)
		return n, age, err
	}
	if hasWatermark(ctx, pool) {
		sample = func() (int64, float64, error) { return unfoldedFollowed(ctx, pool) }
	}
	go func() {
		defer close(l.done)
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-l.stop:
				return
			case <-t.C:
			}
			n, age, err := sample()
			if err != nil {
				continue
			}
			l.mu.Lock()
			l.ages = append(l.ages, time.Duration(age*float64(time.Second)))
			l.backlog = max(l.backlog, n)
			l.mu.Unlock()
		}
	}()
	return l
}

// finish stops sampling and prints the figures.
func (l *lagSampler) finish() {
	close(l.stop)
	<-l.done
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.ages) == 0 {
		return
	}
	ages := append([]time.Duration(nil), l.ages...)
	sort.Slice(ages, func(i, j int) bool { return ages[i] < ages[j] })
	fmt.Printf("settling under load (oldest unfolded click's age, %d samples every 50 ms): median %s, p99 %s, max %s; most clicks waiting (id span) %d\n",
		len(ages), ages[len(ages)/2].Round(time.Millisecond), ages[len(ages)*99/100].Round(time.Millisecond),
		ages[len(ages)-1].Round(time.Millisecond), l.backlog)
}

// quiesce waits until peykar's start-up periodic jobs have been enqueued
// and finished: some job exists and none has been available or running for
// two seconds (the leader is elected and enqueues them a moment after
// start), for at most within.
func quiesce(ctx context.Context, pool *pgxpool.Pool, within time.Duration) error {
	t0 := time.Now()
	var quietSince time.Time
	for {
		var busy, total int64
		if err := pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE state IN ('available', 'running')), count(*) FROM river_job`).Scan(&busy, &total); err != nil {
			return err
		}
		switch {
		case busy > 0 || total == 0:
			quietSince = time.Time{}
		case quietSince.IsZero():
			quietSince = time.Now()
		case time.Since(quietSince) > 2*time.Second:
			fmt.Printf("peykar's start-up jobs (%d) done after %s\n", total, time.Since(t0).Round(time.Millisecond))
			return nil
		}
		if time.Since(t0) > within {
			return fmt.Errorf("peykar's start-up jobs not done after %s (%d available or running)", within, busy)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// waitSettled waits until the campaign's rollup clicks equal its stored
// click events and no click waits in event_inbox (derived state caught up), for at most within, and says how
// long it took.
func waitSettled(ctx context.Context, pool *pgxpool.Pool, campaign int64, within time.Duration) (time.Duration, error) {
	t0 := time.Now()
	inbox := hasInbox(ctx, pool)
	for {
		var stored, rolled, waiting int64
		if err := pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM events WHERE campaign_id = $1 AND type = 'click'),
			(SELECT coalesce(sum(count), 0) FROM rollups WHERE campaign_id = $1 AND metric = 'clicks')`, campaign).Scan(&stored, &rolled); err != nil {
			return 0, err
		}
		if inbox {
			// Answered but not yet folded into events: not settled.
			if err := pool.QueryRow(ctx, `SELECT count(*) FROM event_inbox`).Scan(&waiting); err != nil {
				return 0, err
			}
		}
		if (stored == rolled && waiting == 0) || time.Since(t0) > within {
			return time.Since(t0), nil
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// report prints the run's figures.
func report(res, ceil clickResult, gen string, rss float64) {
	line := func(name string, r clickResult) {
		fmt.Printf("%s: %d clicks in %.2fs = %.0f clicks/s; latency p50 %s p90 %s p99 %s max %s; other answers/errors %d\n",
			name, r.found, r.elapsed.Seconds(), r.rate(),
			r.p50.Round(time.Microsecond), r.p90.Round(time.Microsecond), r.p99.Round(time.Microsecond), r.max.Round(time.Microsecond), r.other)
	}
	if ceil.found > 0 {
		line("ceiling (trivial 302 server, same wrk run)", ceil)
		fmt.Printf("ceiling cpu: server %s, wrk %s per click\n", per(ceil.appCPU, ceil.found), per(ceil.genCPU, ceil.found))
	}
	line("peykar", res)
	if ceil.found > 0 {
		fmt.Printf("peykar reaches %.0f%% of the ceiling\n", 100*res.rate()/ceil.rate())
	}
	if res.found > 0 {
		total := res.appCPU + res.cpu.DB + res.genCPU
		fmt.Printf("cpu: peykar %.2fs, PostgreSQL %.2fs, %s %.2fs = %s per click (peykar %s, PostgreSQL %s, %s %s); peykar + PostgreSQL %s per click; %d cores fully ours would do ~%.0f clicks/s\n",
			res.appCPU.Seconds(), res.cpu.DB.Seconds(), gen, res.genCPU.Seconds(), per(total, res.found),
			per(res.appCPU, res.found), per(res.cpu.DB, res.found), gen, per(res.genCPU, res.found), per(res.appCPU+res.cpu.DB, res.found),
			runtime.NumCPU(), float64(runtime.NumCPU())*float64(res.found)/total.Seconds())
	}
	if res.found > 0 {
		fmt.Printf("the bench's own probes (settling sampler, progress and WAL reads): PostgreSQL %s per click, left out of the figures above (with them: PostgreSQL %s per click)\n",
			per(res.probeCPU, res.found), per(res.cpu.DB+res.probeCPU, res.found))
	}
	if res.found > 0 && res.walBytes >= 0 {
		fmt.Printf("wal: %d MB while clicking (the CPU window) = %d bytes per click\n", res.walBytes>>20, res.walBytes/res.found)
	}
	fmt.Printf("peykar peak RSS %.0f MB\n", rss)
}

func per(d time.Duration, n int64) time.Duration {
	return (d / time.Duration(max(n, 1))).Round(time.Microsecond)
}

// printDurability says how durable the database is, labelled.
func printDurability(ctx context.Context, pool *pgxpool.Pool) error {
	var fsync, syncCommit, fpw, buffers, huge string
	if err := pool.QueryRow(ctx, `SELECT current_setting('fsync'), current_setting('synchronous_commit'), current_setting('full_page_writes'), current_setting('shared_buffers'), current_setting('huge_pages')`).
		Scan(&fsync, &syncCommit, &fpw, &buffers, &huge); err != nil {
		return err
	}
	label := "default durability"
	if fsync != "on" || syncCommit != "on" || fpw != "on" {
		label = "UNSAFE, not a deployment figure"
	}
	fmt.Printf("durability: fsync=%s synchronous_commit=%s full_page_writes=%s shared_buffers=%s huge_pages=%s (%s)\n", fsync, syncCommit, fpw, buffers, huge, label)
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
	// The people rows the send outcomes create in a deployment (sent and
	// delivered), so a click refreshes its person as it would there
	// instead of creating the row.
	if _, err := pool.Exec(ctx, `INSERT INTO campaign_people (campaign_id, contact_id, sent, delivered)
		SELECT campaign_id, contact_id, true, true FROM deliveries WHERE campaign_id = $1`, campaign); err != nil {
		return 0, 0, err
	}
	// Likewise the contacts' counters (migration 048): the send fold
	// counts each message sent, so in a deployment every contact clicked
	// has its contact_stats row and a click's stats are an update of it.
	// Without this row every contact's first click inserted one (58% of
	// the rows in wt-trk9's runs), a path a deployment rarely takes.
	if _, err := pool.Exec(ctx, `DO $$ BEGIN
		IF to_regclass('contact_stats') IS NOT NULL THEN
			INSERT INTO contact_stats (contact_id, sent) SELECT contact_id, 1 FROM deliveries WHERE campaign_id = `+fmt.Sprint(campaign)+`;
		END IF; END $$`); err != nil {
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

func settings(cfg config) map[string]string {
	s := map[string]string{"max_connections": "100", "shared_buffers": "256MB"}
	if cfg.unsafe {
		s["fsync"], s["synchronous_commit"], s["full_page_writes"] = "off", "off", "off"
	}
	for k, v := range benchdb.ExtraSettings(cfg.pgset) {
		s[k] = v
	}
	if cfg.hugePages {
		// Shared memory in 2 MB pages (docs/operations.md): PostgreSQL
		// refuses to start unless vm.nr_hugepages reserves enough, which
		// whoever runs the benchmark sets and gives back.
		s["huge_pages"] = "on"
	}
	var preload []string
	if cfg.statements {
		preload = append(preload, "pg_stat_statements")
		// Planning is CPU that execution time leaves out; WAL sync time
		// shows what the commits' flushes cost.
		s["pg_stat_statements.track_planning"] = "on"
		s["track_wal_io_timing"] = "on"
	}
	if cfg.explain != "" {
		// The plans as run, with rows and buffers per node; timing off,
		// since reading the clock per row would cost more than most
		// nodes do. Nested statements and trigger counts show the
		// triggers' work.
		preload = append(preload, "auto_explain")
		s["auto_explain.log_min_duration"] = fmt.Sprintf("%dus", cfg.explainMin.Microseconds())
		s["auto_explain.sample_rate"] = fmt.Sprint(cfg.explainSample)
		s["auto_explain.log_analyze"] = "on"
		s["auto_explain.log_timing"] = "off"
		s["auto_explain.log_buffers"] = "on"
		s["auto_explain.log_nested_statements"] = "on"
		s["auto_explain.log_triggers"] = "on"
		s["auto_explain.log_verbose"] = "on"
	}
	if len(preload) > 0 {
		s["shared_preload_libraries"] = strings.Join(preload, ",")
	}
	return s
}

// copyFile copies the file at from to a new file at to.
func copyFile(from, to string) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return fmt.Errorf("read %s: %w", from, err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", to, err)
	}
	return nil
}

// analysed are the tables settle vacuums and analyses: every table the
// click path and the fold read or write (tracking/queries.sql and the
// statements it queues through deliveries and contacts), those of the
// measured binary's schema that exist. campaign_people and contact_stats
// were missing until 2026-12-07: the fold's plans then ran on no
// statistics for them (wt-trk9 saw a bitmap heap scan per key of
// campaign_people_pkey where a deployment, analysed by autovacuum, plans
// a plain index scan).
var analysed = []string{"contacts", "contact_stats", "campaigns", "campaign_links", "campaign_steps", "campaign_people",
	"deliveries", "events", "rollups", "rollup_totals", "rollup_hours", "tracking_watermark"}

// settle brings the seeded database to the state of one that has been
// running: tables vacuumed and analysed (hint bits set, visibility maps
// current, so autovacuum does not start on them during the run) and a
// checkpoint taken, which leaves the seed's WAL segments recycled for the
// run to write into instead of creating and zero-filling new ones.
func settle(ctx context.Context, pool *pgxpool.Pool) error {
	var tables string
	if err := pool.QueryRow(ctx, `SELECT string_agg(t, ', ') FROM unnest($1::text[]) t WHERE to_regclass(t) IS NOT NULL`, analysed).Scan(&tables); err != nil {
		return fmt.Errorf("settle: %w", err)
	}
	for _, q := range []string{`VACUUM (ANALYZE) ` + tables, `CHECKPOINT`} {
		if _, err := pool.Exec(ctx, q); err != nil {
			return fmt.Errorf("settle: %s: %w", q, err)
		}
	}
	return nil
}

// printStatements shows where the database spent its time during the run
// (from the reset before the clicks to the end of settling): statements
// with their planning time and WAL, commits and WAL flushes (the request
// path's group commits are most of both), and the clicking window's WAL
// by record type and relation (pg_walinspect). Figures per click divide by
// the 302s answered.
func printStatements(ctx context.Context, pool *pgxpool.Pool, res clickResult) error {
	clicks := float64(max(res.found, 1))
	trows, err := pool.Query(ctx, `SELECT relname, n_tup_ins, n_tup_upd, n_tup_hot_upd, n_tup_del FROM pg_stat_user_tables
		WHERE relname IN ('events', 'deliveries', 'contacts', 'rollups', 'campaign_people', 'event_inbox') OR relname LIKE 'events_%' ORDER BY relname`)
	if err != nil {
		return err
	}
	for trows.Next() {
		var name string
		var ins, upd, hot, del int64
		if err := trows.Scan(&name, &ins, &upd, &hot, &del); err != nil {
			return err
		}
		if ins+upd+del > 0 {
			fmt.Printf("table %s: %d inserted, %d updated (%d HOT), %d deleted\n", name, ins, upd, hot, del)
		}
	}
	if err := trows.Err(); err != nil {
		return err
	}
	var walRecords, walFPI, walBytes, walWrite, walSync, commits int64
	var syncMS float64
	if err := pool.QueryRow(ctx, `SELECT wal_records, wal_fpi, wal_bytes::bigint, wal_write, wal_sync, wal_sync_time FROM pg_stat_wal`).
		Scan(&walRecords, &walFPI, &walBytes, &walWrite, &walSync, &syncMS); err != nil {
		return err
	}
	if err := pool.QueryRow(ctx, `SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()`).Scan(&commits); err != nil {
		return err
	}
	fmt.Printf("wal: %d records, %d full-page images, %d MB; %d writes, %d syncs (%.0f ms syncing) = %.3f syncs per click; %d commits = %.3f per click\n",
		walRecords, walFPI, walBytes>>20, walWrite, walSync, syncMS, float64(walSync)/clicks, commits, float64(commits)/clicks)
	rows, err := pool.Query(ctx, `SELECT calls, plans, round(total_exec_time)::bigint, round(total_plan_time)::bigint, wal_bytes::bigint, rows,
			left(regexp_replace(query, '\s+', ' ', 'g'), 90)
		FROM pg_stat_statements ORDER BY total_exec_time + total_plan_time DESC LIMIT 16`)
	if err != nil {
		return err
	}
	defer rows.Close()
	fmt.Println(" calls  plans  exec_ms  plan_ms  µs/click  WAL B/click     rows  statement")
	for rows.Next() {
		var calls, plans, ms, plan, wal, n int64
		var q string
		if err := rows.Scan(&calls, &plans, &ms, &plan, &wal, &n, &q); err != nil {
			return err
		}
		fmt.Printf("%6d %6d %8d %8d %9.1f %12.0f %8d  %s\n", calls, plans, ms, plan, float64(ms+plan)*1000/clicks, float64(wal)/clicks, n, q)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	rows.Close()
	return printWALRecords(ctx, pool, res)
}

// printWALRecords prints the clicking window's WAL by resource manager,
// record type and relation (of the record's first block), per click.
func printWALRecords(ctx context.Context, pool *pgxpool.Pool, res clickResult) error {
	if res.walFrom == "" || res.walTo == "" {
		return nil
	}
	if _, err := pool.Exec(ctx, `CREATE EXTENSION IF NOT EXISTS pg_walinspect`); err != nil {
		fmt.Println("pg_walinspect:", err)
		return nil
	}
	rows, err := pool.Query(ctx, `WITH r AS (
			SELECT resource_manager || '/' || record_type AS kind, record_length + fpi_length AS size,
				(regexp_match(block_ref, 'blkref #0: rel \d+/\d+/(\d+)'))[1]::oid AS node
			FROM pg_get_wal_records_info($1::pg_lsn, $2::pg_lsn))
		SELECT r.kind || coalesce(' ' || c.relname, ''), count(*), sum(r.size)::bigint
		FROM r LEFT JOIN pg_class c ON c.relfilenode = r.node AND r.node <> 0
		GROUP BY 1 ORDER BY 3 DESC LIMIT 24`, res.walFrom, res.walTo)
	if err != nil {
		fmt.Println("pg_walinspect:", err)
		return nil
	}
	defer rows.Close()
	clicks := float64(max(res.found, 1))
	fmt.Println(" WAL records per click   bytes per click  record type and relation (clicking window)")
	for rows.Next() {
		var kind string
		var n, size int64
		if err := rows.Scan(&kind, &n, &size); err != nil {
			return err
		}
		fmt.Printf(" %21.3f %17.0f  %s\n", float64(n)/clicks, float64(size)/clicks, kind)
	}
	return rows.Err()
}
