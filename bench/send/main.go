// Command send measures sending as a deployment runs it: `peykar serve`
// built from this checkout and run as its own process with DATABASE_URL and
// SMTP_URL (pool 16), a PostgreSQL with default durability (fsync and
// synchronous_commit on — printed; -unsafe turns them off and says so), an
// SMTP sink in a separate process, N contacts, and one campaign created and
// launched through the API. In the same run it measures the ceiling: a bare
// go-mail loop from this process to the same sink. It prints msgs/s from
// launch to finished, the times until half, 99% and all messages were
// accepted, the ratio to the ceiling, CPU per 1,000 messages split into
// peykar serve and PostgreSQL, WAL bytes per message, peak RSS, and checks
// ground truth: every recipient exactly once.
//
//	go run ./bench/send -n 100000 -pool 16
//
// -bin runs a prebuilt peykar instead, so that a before/after comparison
// compiles nothing inside the benchmark's measuring window (or its lock).
//
// BENCH_PG_STATEMENTS=1 prints pg_stat_statements' top statements and the
// WAL records per message; BENCH_PG_EXPLAIN=FILE keeps in FILE the executed
// plans of the statements slower than BENCH_PG_EXPLAIN_MS (default 5; 0:
// all), triggers' statements included (auto_explain; benchdb/explain.go).
// Both cost CPU: a run with them says where the time goes, not how fast.
//
// -warm N (default 0: off) first sends a warm-up campaign to N other
// contacts through the same peykar serve, waits for it to finish and
// settle, and only then launches and measures the campaign above: every
// figure (msgs/s, the ceiling's ratio, CPU, faults, WAL, the ground truth
// and the derived state) is the measured campaign's alone, sent by a
// server whose pooled connections (PostgreSQL backends) have already
// worked, as a long-running deployment's have (pgxpool recycles them
// after an hour). Without it every backend is new in the measured window
// and pays its first touches of shared memory there. -hugepages starts
// the cluster with huge_pages = on (vm.nr_hugepages must be reserved by
// whoever runs it). Both are printed: neither is the default run.
//
// Every run also prints PostgreSQL's CPU by process (client backends,
// walwriter, autovacuum workers, …; benchdb.ProcSplit), pg_stat_wal's
// flushes per 1,000 messages, and (-vacuum-after, on) the vacuum work the
// window left and a VACUUM ANALYZE's CPU doing it. -pgset name=value,…
// runs the cluster with extra server settings, printed and labelled.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/wneessen/go-mail"

	"github.com/peykar/peykar/bench/internal/benchdb"
	"github.com/peykar/peykar/bench/internal/benchserve"
	"github.com/peykar/peykar/bench/internal/benchsink"
	"github.com/peykar/peykar/templates"
	"github.com/peykar/peykar/tracking"
)

type config struct {
	n, pool int
	bare    bool
	unsafe  bool
	ab      bool
	holdout float64
	cap     string
	profile string
	bin     string
	// warm is the warm-up campaign's audience (0: none); hugePages runs
	// the cluster with huge_pages = on.
	warm      int
	hugePages bool
	// pgset are extra server settings, name=value,… (labelled);
	// vacuumAfter runs a VACUUM ANALYZE after the window and charges it.
	pgset       string
	vacuumAfter bool
}

func main() {
	sink := flag.Bool("sink", false, "(internal) run as the SMTP sink")
	var cfg config
	flag.IntVar(&cfg.n, "n", 100000, "contacts (messages)")
	flag.IntVar(&cfg.pool, "pool", 16, "SMTP connections of peykar serve and of the bare loop")
	flag.BoolVar(&cfg.bare, "bare", true, "also measure a bare go-mail loop to the same sink (the ceiling)")
	flag.BoolVar(&cfg.unsafe, "unsafe", false, "UNSAFE: run the embedded PostgreSQL with fsync and synchronous_commit off (labelled in the output)")
	flag.BoolVar(&cfg.ab, "ab", false, "send the campaign as a 2-variant A/B test over the whole audience")
	flag.Float64Var(&cfg.holdout, "holdout", 0, "keep this share of the audience out of the campaign (settings.holdout)")
	flag.StringVar(&cfg.cap, "cap", "", "a frequency cap across all campaigns, MAX/PER such as 2/24h (settings.frequency_cap with scope all)")
	flag.StringVar(&cfg.profile, "cpuprofile", "", "save a CPU profile of peykar serve during the send to this file (PEYKAR_PPROF)")
	flag.IntVar(&cfg.warm, "warm", 0, "first send a warm-up campaign to this many other contacts through the same peykar serve, wait for it to finish and settle, then measure (0: no warm-up; labelled in the output)")
	flag.BoolVar(&cfg.hugePages, "hugepages", false, "run the embedded PostgreSQL with huge_pages = on (reserve vm.nr_hugepages first; labelled in the output)")
	flag.StringVar(&cfg.pgset, "pgset", "", "extra PostgreSQL server settings, name=value,name=value (e.g. wal_sync_method=open_datasync); printed and labelled: not the default cluster")
	flag.BoolVar(&cfg.vacuumAfter, "vacuum-after", true, "after the measured window, print the vacuum work the send left (dead rows, inserts since vacuum) and the CPU of a VACUUM ANALYZE doing it")
	flag.StringVar(&cfg.bin, "bin", "", "run this prebuilt peykar binary (default: build ./cmd/peykar from this checkout); it migrates the database itself, so a binary of another commit runs on its own schema")
	flag.Parse()
	if *sink {
		check(benchsink.Serve())
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	check(run(ctx, cfg))
}

func run(ctx context.Context, cfg config) error {
	fmt.Printf("load average at start: %s\n", benchdb.LoadAvg())
	if os.Getenv("DATABASE_URL") == "" && !cfg.unsafe {
		if err := os.Setenv("BENCH_PG_DURABLE", "1"); err != nil {
			return err
		}
		// Issue 22's measurement: PostgreSQL 15 with default durability
		// and shared_buffers 256 MB, as bench/tracking runs it (512 MB
		// before 2026-12-08; 2 pairs measured the same PostgreSQL CPU per
		// message, docs/benchmarks.md). -pgset can still replace it.
		if os.Getenv("BENCH_PG_SHARED_BUFFERS") == "" {
			if err := os.Setenv("BENCH_PG_SHARED_BUFFERS", "256MB"); err != nil {
				return err
			}
		}
	}
	if cfg.hugePages {
		if err := os.Setenv("BENCH_PG_HUGEPAGES", "1"); err != nil {
			return err
		}
	}
	if cfg.pgset != "" {
		if err := os.Setenv("BENCH_PG_SET", cfg.pgset); err != nil {
			return err
		}
	}
	cluster, err := benchdb.OpenClusterFor(ctx, 4, cfg.bin)
	if err != nil {
		return err
	}
	defer cluster.Close()
	pool := cluster.Pool
	var fsync, syncCommit, fpw, buffers, huge string
	if err := pool.QueryRow(ctx, `SELECT current_setting('fsync'), current_setting('synchronous_commit'), current_setting('full_page_writes'), current_setting('shared_buffers'), current_setting('huge_pages')`).
		Scan(&fsync, &syncCommit, &fpw, &buffers, &huge); err != nil {
		return err
	}
	label := "default durability"
	if fsync != "on" || syncCommit != "on" || fpw != "on" {
		label = "UNSAFE, not a deployment figure"
	}
	fmt.Printf("durability: fsync=%s synchronous_commit=%s full_page_writes=%s shared_buffers=%s (%s)\n", fsync, syncCommit, fpw, buffers, label)
	if err := benchdb.PrintExtraSettings(ctx, pool, cfg.pgset); err != nil {
		return err
	}
	if huge == "on" {
		fmt.Println("HUGE PAGES: huge_pages=on (-hugepages), not the default cluster")
	}
	if cfg.warm > 0 {
		fmt.Printf("WARM-UP: %d other contacts are sent a campaign first (-warm); the figures below are the measured campaign's alone, not a cold start\n", cfg.warm)
	}

	sink, err := benchsink.Start("-sink")
	if err != nil {
		return err
	}
	defer sink.Stop()
	var ceiling float64
	if cfg.bare {
		self0, sink0 := benchdb.SampleCPU("").Self, benchserve.PidCPU(sink.Pid())
		ceiling = bareLoop(cfg.n, cfg.pool, sink.Port)
		self, sinkCPU := benchdb.SampleCPU("").Self-self0, benchserve.PidCPU(sink.Pid())-sink0
		fmt.Printf("ceiling, a bare go-mail loop to the same sink: %d msgs over %d connections → %.0f msgs/s (go-mail %.0f µs, sink %.0f µs CPU per message)\n",
			cfg.n, cfg.pool, ceiling, float64(self.Microseconds())/float64(cfg.n), float64(sinkCPU.Microseconds())/float64(cfg.n))
	}

	// The warm-up's contacts first: the measured ones then get the highest
	// ids and append at the right end of every index, as in a run without
	// a warm-up (behind them, each index page split would be a middle
	// one: more WAL and half-empty pages).
	if err := seedWarm(ctx, pool, cfg.warm); err != nil {
		return err
	}
	t0 := time.Now()
	if _, err := pool.Exec(ctx, `INSERT INTO contacts (email, name, attributes)
		SELECT 'user' || i || '@example.com', 'User ' || i, jsonb_build_object('city', (ARRAY['Tehran','Shiraz','Berlin'])[1 + i % 3])
		FROM generate_series(1, $1) i`, cfg.n); err != nil {
		return err
	}
	if _, err := pool.Exec(ctx, `VACUUM ANALYZE contacts`); err != nil {
		return err
	}
	fmt.Printf("seeded %d contacts in %s\n", cfg.n, time.Since(t0).Round(time.Millisecond))

	var extra []string
	pprofAddr := ""
	if cfg.profile != "" {
		if pprofAddr, err = benchserve.FreeLoopback(); err != nil {
			return err
		}
		extra = append(extra, "PEYKAR_PPROF="+pprofAddr)
	}
	srv, stopSrv, err := launchPeykar(ctx, cfg.bin, cluster.DSN, sink.URL(cfg.pool), extra...)
	if err != nil {
		return err
	}
	defer stopSrv()
	// The warm-up's campaign first, for the same reason: the measured
	// campaign's id is the highest, so its deliveries' keys append.
	warm, err := createWarm(ctx, srv, cfg.warm)
	if err != nil {
		return err
	}
	id, err := createCampaign(ctx, srv, cfg)
	if err != nil {
		return err
	}

	if err := waitStartupJobs(ctx, pool); err != nil {
		return err
	}
	if err := warmUp(ctx, srv, pool, sink, warm, cfg.warm); err != nil {
		return err
	}
	// The contacts' sent counts so far (the warm-up's): the derived state
	// is checked on what the measured campaign adds.
	sentBefore, err := contactsSent(ctx, pool)
	if err != nil {
		return err
	}
	var wal0 string
	if err := pool.QueryRow(ctx, `SELECT pg_current_wal_lsn()::text`).Scan(&wal0); err != nil {
		return err
	}
	if os.Getenv("BENCH_PG_STATEMENTS") == "1" {
		if _, err := pool.Exec(ctx, `CREATE EXTENSION IF NOT EXISTS pg_stat_statements; SELECT pg_stat_statements_reset()`); err != nil {
			return err
		}
	}
	tables0, err := readTableStats(ctx, pool)
	if err != nil {
		return err
	}
	debt0, err := readVacuumDebt(ctx, pool)
	if err != nil {
		return err
	}
	walStats0, err := readWALStats(ctx, pool)
	if err != nil {
		return err
	}
	profiled := make(chan error, 1)
	if cfg.profile != "" {
		go func() {
			profiled <- benchserve.FetchProfile(ctx, pprofAddr, time.Duration(profileWindow(cfg.n, ceiling))*time.Second, cfg.profile)
		}()
	}
	var split *benchdb.ProcSplit
	if cluster.DataDir != "" {
		if split, err = benchdb.StartProcSplit(cluster.DataDir, cluster.Own); err != nil {
			return err
		}
		defer split.Stop()
	}
	cpu0, pg0 := srv.CPU(), benchdb.SampleCPU(cluster.DataDir)
	if err := sink.Mark(); err != nil {
		return err
	}
	start := time.Now()
	if err := srv.Call(ctx, http.MethodPost, fmt.Sprintf("/campaigns/%d/launch", id), nil, nil); err != nil {
		return err
	}
	for {
		var c struct {
			Status string `json:"status"`
		}
		if err := srv.Call(ctx, http.MethodGet, fmt.Sprintf("/campaigns/%d", id), nil, &c); err != nil {
			return err
		}
		if c.Status == "finished" {
			break
		}
		if cfg.ab {
			// An A/B test with a manual winner stays running (its
			// remainder waits for the pick): done when the launch walk is
			// and nothing is left to send.
			var done bool
			if err := pool.QueryRow(ctx, `SELECT c.launch_done AND NOT EXISTS (SELECT 1 FROM deliveries d
				WHERE d.campaign_id = c.id AND d.status IN ('queued', 'sending')) FROM campaigns c WHERE c.id = $1`, id).Scan(&done); err != nil {
				return err
			}
			if done {
				break
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	elapsed := time.Since(start)
	// The campaign's people are folded from
	// the send outcomes after their flush (engine/send_fold.go, migration
	// 045): CPU and WAL are read once the fold has settled, so its work
	// after the last message counts in the send's.
	settled, err := waitSettled(ctx, pool)
	if err != nil {
		return err
	}
	pg := benchdb.SampleCPU(cluster.DataDir).Sub(pg0)
	if split != nil {
		split.Mark("launch to settled")
	}
	app, db := srv.CPU()-cpu0, pg.DB
	var walBytes float64
	if err := pool.QueryRow(ctx, `SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), $1::pg_lsn)`, wal0).Scan(&walBytes); err != nil {
		return err
	}
	st, err := sink.Stats()
	if err != nil {
		return err
	}
	var sent, deliveries int64
	if err := pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE status = 'sent'), count(*) FROM deliveries WHERE campaign_id = $1`, id).
		Scan(&sent, &deliveries); err != nil {
		return err
	}
	got := st.Messages
	rate := float64(got) / elapsed.Seconds()
	fmt.Printf("peykar: %d msgs in %s → %.0f msgs/s, launch to finished (launch → accepted: half %s, 99%% %s, all %s)\n",
		got, elapsed.Round(time.Millisecond), rate, st.Half, st.P99, st.All)
	if ceiling > 0 {
		fmt.Printf("peykar / ceiling: %.0f%%\n", 100*rate/ceiling)
	}
	per := float64(max(got, 1)) / 1000
	fmt.Printf("settled (campaign people folded) %s after finished\n", settled.Round(time.Millisecond))
	fmt.Printf("CPU per 1,000 messages: peykar serve %.3f s + PostgreSQL %.3f s = %.3f s\n", app.Seconds()/per, db.Seconds()/per, (app+db).Seconds()/per)
	fmt.Printf("PostgreSQL in the kernel: %.3f s per 1,000 messages (%.0f%% of its CPU); minor page faults: %.2f per message\n",
		pg.DBSys.Seconds()/per, 100*pg.DBSys.Seconds()/max(db.Seconds(), 1e-9), float64(pg.DBFaults)/float64(max(got, 1)))
	fmt.Printf("WAL: %.1f MB, %.0f bytes per message\n", walBytes/1e6, walBytes/float64(max(got, 1)))
	fmt.Printf("peykar serve peak RSS: %.0f MB\n", srv.PeakRSS())
	tables1, err := readTableStats(ctx, pool)
	if err != nil {
		return err
	}
	printTableStats(os.Stdout, tables0, tables1, got)
	if split != nil {
		split.Print(os.Stdout, got)
	}
	if cfg.vacuumAfter && split != nil {
		if err := vacuumLeft(ctx, pool, split, debt0, walStats0, got); err != nil {
			return err
		}
	}
	benchdb.PrintStatements(ctx, pool, os.Stdout)
	benchdb.PrintWALRecords(ctx, pool, os.Stdout, wal0, got)
	if cfg.profile != "" {
		if err := <-profiled; err != nil {
			return err
		}
		fmt.Printf("peykar serve CPU profile: %s (go tool pprof -top %s)\n", cfg.profile, cfg.profile)
	}
	fmt.Printf("load average at the end: %s\n", benchdb.LoadAvg())
	// Ground truth: every delivery sent once, nobody twice, nothing else.
	want := int64(cfg.n)
	if cfg.holdout > 0 {
		want = deliveries
	}
	if st.Repeated != 0 || got != st.Distinct || got != sent || sent != deliveries || sent != want {
		return fmt.Errorf("ground truth FAILED: sink accepted %d messages for %d distinct recipients (%d repeated); %d of %d deliveries sent; %d contacts",
			got, st.Distinct, st.Repeated, sent, deliveries, cfg.n)
	}
	fmt.Printf("ground truth: %d recipients, each exactly once (%d deliveries sent, 0 repeated)\n", got, sent)
	return checkDerived(ctx, pool, id, sent, sentBefore)
}

// createCampaign creates the template, the segment of every contact and
// the campaign through the API.
func createCampaign(ctx context.Context, srv *benchserve.Peykar, cfg config) (int64, error) {
	var tpl, tplB, seg, c struct {
		ID int64 `json:"id"`
	}
	if err := srv.Call(ctx, http.MethodPost, "/templates", map[string]any{"name": "bench", "subject": benchSubject, "html": benchHTML}, &tpl); err != nil {
		return 0, err
	}
	// With -warm the warm-up's contacts are erased before the launch
	// (warm.go): the walk leaves erased contacts out, so "true" is the
	// same N contacts in either mode.
	if err := srv.Call(ctx, http.MethodPost, "/segments", map[string]any{"name": "all", "rule": "true"}, &seg); err != nil {
		return 0, err
	}
	step := map[string]any{"key": "main", "template_id": tpl.ID}
	body := map[string]any{"name": "bench", "channel": "email", "segment_id": seg.ID,
		"from": map[string]any{"name": "Shop", "email": "news@shop.example"}}
	settings := map[string]any{}
	if cfg.ab {
		if err := srv.Call(ctx, http.MethodPost, "/templates", map[string]any{"name": "bench B", "subject": "B: " + benchSubject, "html": benchHTML}, &tplB); err != nil {
			return 0, err
		}
		step["variants"] = []map[string]any{{"key": "A", "template_id": tpl.ID}, {"key": "B", "template_id": tplB.ID}}
		body["ab_test"] = map[string]any{"step": "main", "test_share": 1.0, "metric": "ctr", "duration": "1h", "winner": "manual"}
	}
	if cfg.holdout > 0 {
		settings["holdout"] = cfg.holdout
	}
	if cfg.cap != "" {
		max, per, ok := strings.Cut(cfg.cap, "/")
		n, err := strconv.Atoi(max)
		if !ok || err != nil {
			return 0, fmt.Errorf("-cap %q: want MAX/PER such as 2/24h", cfg.cap)
		}
		settings["frequency_cap"] = map[string]any{"max": n, "per": per, "scope": "all"}
	}
	if len(settings) > 0 {
		body["settings"] = settings
	}
	body["steps"] = []map[string]any{step}
	if err := srv.Call(ctx, http.MethodPost, "/campaigns", body, &c); err != nil {
		return 0, err
	}
	return c.ID, nil
}

const (
	benchSubject = "Hello {{ .Contact.Name }}"
	benchHTML    = `<html><body><h1>Spring sale</h1><p>Dear {{ .Contact.Name }}, the spring collection is here.</p>
		<p><a href="https://shop.example/new">New arrivals</a> · <a href="https://shop.example/pricing">Pricing</a></p>
		<p>{{ .Contact.Attributes.city | default "your city" }} store opens at 9.</p>
		<p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p></body></html>`
)

// sampleMessage renders the benchmark's template once, with real tracking
// URLs, so the bare loop sends messages of the same size and shape.
func sampleMessage() *templates.Rendered {
	c, err := templates.Compile(templates.Template{Name: "bench", Subject: benchSubject, HTML: benchHTML})
	check(err)
	signer := tracking.NewSigner(tracking.Keys{Current: []byte("bench-secret-bench-secret-bench-secret")})
	r, err := c.Render(templates.Data{Contact: templates.Contact{ID: 1, Email: "user1@example.com", Name: "User 1",
		Attributes: map[string]any{"city": "Tehran"}}}, sampleTracker{signer})
	check(err)
	return r
}

type sampleTracker struct{ s *tracking.Signer }

func (t sampleTracker) ClickURL(idx int, _ string) string {
	return t.s.ClickURL("https://peykar.example", 123456, idx, "")
}
func (t sampleTracker) OpenURL() string { return t.s.OpenURL("https://peykar.example", 123456) }
func (t sampleTracker) UnsubscribeURL() string {
	return t.s.UnsubscribeURL("https://peykar.example", 123456)
}
func (t sampleTracker) HoneypotURL() string { return t.s.HoneypotURL("https://peykar.example", 123456) }

// bareLoop sends n pre-rendered messages, of the same shape as the engine's
// (text + HTML alternative, the same headers), over pool persistent go-mail
// connections as fast as it can: the ceiling of the sink and go-mail on this
// machine, with no database, queue or rendering.
func bareLoop(n, pool, port int) float64 {
	r := sampleMessage()
	client, err := mail.NewClient("127.0.0.1", mail.WithPort(port), mail.WithTLSPolicy(mail.NoTLS), mail.WithoutNoop())
	check(err)
	var wg sync.WaitGroup
	per := n / pool
	start := time.Now()
	for range pool {
		wg.Go(func() {
			sc, err := client.DialToSMTPClientWithContext(context.Background())
			check(err)
			defer func() { _ = client.CloseWithSMTPClient(sc) }()
			for i := 0; i < per; i += 25 {
				msgs := make([]*mail.Msg, 0, 25)
				for j := i; j < min(i+25, per); j++ {
					m := mail.NewMsg()
					check(m.FromFormat("Shop", "news@shop.example"))
					check(m.AddToFormat(fmt.Sprintf("User %d", j), fmt.Sprintf("user%d@example.com", j)))
					m.Subject(r.Subject)
					m.SetMessageIDWithValue(fmt.Sprintf("peykar.1.%d@shop.example", j))
					m.SetDate()
					m.SetGenHeader("X-Peykar-Campaign", "1")
					m.SetGenHeader("X-Peykar-Delivery", fmt.Sprint(j))
					m.SetListUnsubscribe("https://peykar.example/t/u/xyz")
					m.SetListUnsubscribePost()
					m.SetBulk()
					m.SetBodyString(mail.TypeTextPlain, r.Text)
					m.AddAlternativeString(mail.TypeTextHTML, r.HTML)
					msgs = append(msgs, m)
				}
				check(client.SendWithSMTPClient(sc, msgs...))
			}
		})
	}
	wg.Wait()
	return float64(per*pool) / time.Since(start).Seconds()
}

func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}

// launchPeykar starts bin (built from this checkout when empty) as peykar
// serve; stop ends it and removes its working directory.
func launchPeykar(ctx context.Context, bin, dsn, smtpURL string, extra ...string) (*benchserve.Peykar, func(), error) {
	if bin == "" {
		return benchserve.Launch(ctx, dsn, smtpURL, extra...)
	}
	dir, err := os.MkdirTemp("", "pkbench")
	if err != nil {
		return nil, nil, err
	}
	p, err := benchserve.StartPeykar(ctx, bin, dir, dsn, smtpURL, extra...)
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, nil, err
	}
	return p, func() { p.Stop(); _ = os.RemoveAll(dir) }, nil
}
