package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/peykar/peykar/bench/internal/benchdb"
	"github.com/peykar/peykar/bench/internal/benchgen"
	"github.com/peykar/peykar/bench/internal/benchserve"
	"github.com/peykar/peykar/bench/internal/benchsink"
)

// env is what every stage works against.
type env struct {
	cfg     config
	pool    *pgxpool.Pool
	dataDir string
	srv     *benchserve.Peykar
	sink    *benchsink.Sink
	dir     string
	tplID   int64
	allSeg  int64
	failed  []string // ground-truth failures, reported at the end
}

func run(ctx context.Context, cfg config) error {
	fmt.Printf("load average at start: %s\n", benchdb.LoadAvg())
	if os.Getenv("DATABASE_URL") == "" {
		if err := os.Setenv("BENCH_PG_DURABLE", "1"); err != nil {
			return err
		}
	}
	cluster, err := benchdb.OpenCluster(ctx, 4)
	if err != nil {
		return err
	}
	defer cluster.Close()
	var fsync, syncCommit, buffers string
	if err := cluster.Pool.QueryRow(ctx, `SELECT current_setting('fsync'), current_setting('synchronous_commit'), current_setting('shared_buffers')`).
		Scan(&fsync, &syncCommit, &buffers); err != nil {
		return err
	}
	fmt.Printf("durability: fsync=%s synchronous_commit=%s shared_buffers=%s\n", fsync, syncCommit, buffers)
	sink, err := benchsink.Start("-sink")
	if err != nil {
		return err
	}
	defer sink.Stop()
	dir, err := os.MkdirTemp("", "pkscale")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bin, err := benchserve.Build(ctx, dir)
	if err != nil {
		return err
	}
	srv, err := benchserve.StartPeykar(ctx, bin, dir, cluster.DSN, sink.URL(cfg.pool))
	if err != nil {
		return err
	}
	defer srv.Stop()
	e := &env{cfg: cfg, pool: cluster.Pool, dataDir: cluster.DataDir, srv: srv, sink: sink, dir: dir}
	var tpl, seg struct {
		ID int64 `json:"id"`
	}
	if err := srv.Call(ctx, http.MethodPost, "/templates", map[string]any{"name": "scale", "subject": benchSubject, "html": benchHTML}, &tpl); err != nil {
		return err
	}
	if err := srv.Call(ctx, http.MethodPost, "/segments", map[string]any{"name": "everyone", "rule": "true"}, &seg); err != nil {
		return err
	}
	e.tplID, e.allSeg = tpl.ID, seg.ID

	var results []stageResult
	have := 0
	for _, n := range cfg.sizes {
		r, err := e.stage(ctx, have, n)
		if err != nil {
			return fmt.Errorf("at %d contacts: %w", n, err)
		}
		results = append(results, r)
		have = n
	}
	printTable(os.Stdout, results)
	fmt.Printf("peykar serve peak RSS: %.0f MB\n", srv.PeakRSS())
	fmt.Printf("load average at the end: %s\n", benchdb.LoadAvg())
	if len(e.failed) > 0 {
		return fmt.Errorf("%s", strings.Join(e.failed, "; "))
	}
	return nil
}

// stageResult is what one size measured.
type stageResult struct {
	contacts, deliveries, events int64
	imported                     int
	importTime                   time.Duration
	sent                         int64
	sendTime                     time.Duration
	sendCPU                      time.Duration // peykar serve + PostgreSQL
	counts                       []namedDur    // segment count medians
	report                       time.Duration // report median, the sent campaign
	reportDeliveries             int64
	analytics                    time.Duration // request → recompute job completed
	summary                      time.Duration // one GET /analytics/summary after it
	exportRows                   int64
	exportTime                   time.Duration
	bytesContact                 float64
	bytesDelivery                float64
	bytesEvent                   float64
}

type namedDur struct {
	name string
	d    time.Duration
}

func (e *env) stage(ctx context.Context, have, n int) (stageResult, error) {
	var r stageResult
	add := n - have
	fmt.Printf("\n== growing to %d contacts (load average %s) ==\n", n, benchdb.LoadAvg())

	// Import the new contacts as a user would: a CSV file and `peykar import`.
	file := filepath.Join(e.dir, fmt.Sprintf("contacts-%d.csv", n))
	if err := writeCSV(file, have, add); err != nil {
		return r, err
	}
	t0 := time.Now()
	cmd := e.srv.Command(ctx, "import", file)
	var progress strings.Builder
	cmd.Stdout, cmd.Stderr = io.Discard, &progress
	if err := cmd.Run(); err != nil {
		return r, fmt.Errorf("peykar import: %w: %s", err, progress.String())
	}
	r.importTime, r.imported = time.Since(t0), add
	cpu := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	fmt.Printf("import: %d rows in %s → %.0f rows/s (peykar import CPU %s; it said: %s)\n", add, r.importTime.Round(time.Millisecond),
		float64(add)/r.importTime.Seconds(), cpu.Round(time.Millisecond), lastLine(progress.String()))
	_ = os.Remove(file)

	// History: past campaigns to the new contacts, two events per delivery.
	t0 = time.Now()
	var maxID int64
	if err := e.pool.QueryRow(ctx, `SELECT coalesce(max(id), 0) FROM contacts`).Scan(&maxID); err != nil {
		return r, err
	}
	var firstHist int64
	for k := range e.cfg.campaigns {
		id, err := benchgen.Campaign(ctx, e.pool, fmt.Sprintf("history %d.%d", n, k+1), add, e.cfg.eventsPer*add, int(maxID)-add, false)
		if err != nil {
			return r, err
		}
		if k == 0 {
			firstHist = id
		}
	}
	if _, err := e.pool.Exec(ctx, `VACUUM ANALYZE`); err != nil {
		return r, err
	}
	fmt.Printf("history: %d past campaigns × %d deliveries with %d events each, generated by SQL and vacuumed in %s (not a measure)\n",
		e.cfg.campaigns, add, e.cfg.eventsPer, time.Since(t0).Round(time.Millisecond))

	// Segment counts through the API.
	rules := []struct{ name, rule string }{
		{"attribute (SQL)", `contact.attributes.plan == "pro"`},
		{"attribute in list (SQL)", `contact.attributes.country in ["IR", "DE", "FR"] && contact.status == "active"`},
		{"engagement: opened a campaign", fmt.Sprintf(`opened(%d)`, firstHist)},
		{"evaluated in Go", `lower(contact.attributes.city) startsWith "te"`},
	}
	for _, rule := range rules {
		var seg struct {
			ID int64 `json:"id"`
		}
		if err := e.srv.Call(ctx, http.MethodPost, "/segments", map[string]any{"name": fmt.Sprintf("%s at %d", rule.name, n), "rule": rule.rule}, &seg); err != nil {
			return r, err
		}
		var count int64
		d, err := median(e.cfg.runs, func() error {
			var out struct {
				Count int64 `json:"count"`
			}
			err := e.srv.Call(ctx, http.MethodGet, fmt.Sprintf("/segments/%d/count", seg.ID), nil, &out)
			count = out.Count
			return err
		})
		if err != nil {
			return r, err
		}
		fmt.Printf("segment count %-32s %9d members, median %s\n", rule.name+":", count, d.Round(100*time.Microsecond))
		r.counts = append(r.counts, namedDur{rule.name, d})
	}

	// Send a campaign to every contact.
	sendID := firstHist
	if e.cfg.send {
		id, sent, took, cpu, err := e.send(ctx, n)
		if err != nil {
			return r, err
		}
		sendID, r.sent, r.sendTime, r.sendCPU = id, sent, took, cpu
	}

	// The report of the sent campaign (the first past one without -send).
	if err := e.pool.QueryRow(ctx, `SELECT count(*) FROM deliveries WHERE campaign_id = $1`, sendID).Scan(&r.reportDeliveries); err != nil {
		return r, err
	}
	d, err := median(max(e.cfg.runs, 10), func() error {
		return e.srv.Call(ctx, http.MethodGet, fmt.Sprintf("/campaigns/%d/report", sendID), nil, nil)
	})
	if err != nil {
		return r, err
	}
	r.report = d
	fmt.Printf("report of campaign %d (%d deliveries): median %s\n", sendID, r.reportDeliveries, d.Round(10*time.Microsecond))

	// Analytics: recompute and wait for its summary to change.
	if r.analytics, r.summary, err = e.recompute(ctx); err != nil {
		return r, err
	}
	fmt.Printf("analytics recompute over %d contacts: %s (request to its job completed); then one summary read: %s\n", n, r.analytics.Round(time.Millisecond), r.summary.Round(time.Millisecond))

	// Export the deliveries of the sent campaign.
	t0 = time.Now()
	cw := &countWriter{}
	if err := e.srv.Call(ctx, http.MethodGet, fmt.Sprintf("/campaigns/%d/deliveries.csv", sendID), nil, cw); err != nil {
		return r, err
	}
	r.exportTime, r.exportRows = time.Since(t0), cw.lines-1
	fmt.Printf("export deliveries.csv: %d rows, %.1f MB in %s → %.0f rows/s\n", r.exportRows, float64(cw.bytes)/1e6,
		r.exportTime.Round(time.Millisecond), float64(r.exportRows)/r.exportTime.Seconds())

	// Bytes on disk, tables with their indexes and TOAST (and partitions).
	if err := e.pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM contacts), (SELECT count(*) FROM deliveries), (SELECT count(*) FROM events)`).
		Scan(&r.contacts, &r.deliveries, &r.events); err != nil {
		return r, err
	}
	size := func(table string) (float64, error) {
		var b int64
		err := e.pool.QueryRow(ctx, `SELECT coalesce((SELECT sum(pg_total_relation_size(relid)) FROM pg_partition_tree($1::regclass)),
			pg_total_relation_size($1::regclass))::bigint`, table).Scan(&b)
		return float64(b), err
	}
	for _, x := range []struct {
		table string
		rows  int64
		out   *float64
	}{{"contacts", r.contacts, &r.bytesContact}, {"deliveries", r.deliveries, &r.bytesDelivery}, {"events", r.events, &r.bytesEvent}} {
		b, err := size(x.table)
		if err != nil {
			return r, err
		}
		*x.out = b / float64(max(x.rows, 1))
		fmt.Printf("on disk: %-10s %10d rows, %7.1f MB, %5.0f bytes per row\n", x.table, x.rows, b/1e6, *x.out)
	}
	return r, nil
}

// send creates a campaign to every contact through the API, launches it
// and waits until it has finished; it returns the campaign, the messages
// the sink accepted, the time from launch to finished and the CPU of
// peykar serve and PostgreSQL meanwhile.
func (e *env) send(ctx context.Context, n int) (int64, int64, time.Duration, time.Duration, error) {
	var c struct {
		ID     int64  `json:"id"`
		Status string `json:"status"`
	}
	if err := e.srv.Call(ctx, http.MethodPost, "/campaigns", map[string]any{
		"name": fmt.Sprintf("scale send at %d", n), "channel": "email", "segment_id": e.allSeg,
		"from":  map[string]any{"name": "Shop", "email": "news@shop.example"},
		"steps": []map[string]any{{"key": "main", "template_id": e.tplID}},
	}, &c); err != nil {
		return 0, 0, 0, 0, err
	}
	before, _, err := e.sink.Count()
	if err != nil {
		return 0, 0, 0, 0, err
	}
	cpu0, db0 := e.srv.CPU(), benchdb.SampleCPU(e.dataDir).DB
	t0 := time.Now()
	if err := e.srv.Call(ctx, http.MethodPost, fmt.Sprintf("/campaigns/%d/launch", c.ID), nil, nil); err != nil {
		return 0, 0, 0, 0, err
	}
	for c.Status != "finished" {
		if err := sleepCtx(ctx, 200*time.Millisecond); err != nil {
			return 0, 0, 0, 0, err
		}
		if err := e.srv.Call(ctx, http.MethodGet, fmt.Sprintf("/campaigns/%d", c.ID), nil, &c); err != nil {
			return 0, 0, 0, 0, err
		}
	}
	took := time.Since(t0)
	cpu := e.srv.CPU() - cpu0 + benchdb.SampleCPU(e.dataDir).DB - db0
	after, _, err := e.sink.Count()
	if err != nil {
		return 0, 0, 0, 0, err
	}
	got := after - before
	var sent int64
	if err := e.pool.QueryRow(ctx, `SELECT count(*) FROM deliveries WHERE campaign_id = $1 AND status = 'sent'`, c.ID).Scan(&sent); err != nil {
		return 0, 0, 0, 0, err
	}
	fmt.Printf("send: %d messages accepted by the sink (%d deliveries sent) in %s → %.0f msgs/s; CPU %.0f µs per message (peykar serve + PostgreSQL)\n",
		got, sent, took.Round(time.Millisecond), float64(got)/took.Seconds(), float64(cpu.Microseconds())/float64(max(got, 1)))
	if got != sent || got != int64(n) {
		// Measure the rest of this size anyway; the run fails at its end.
		e.failed = append(e.failed, fmt.Sprintf("ground truth at %d contacts: the sink accepted %d messages, %d deliveries are sent", n, got, sent))
		fmt.Println("GROUND TRUTH FAILED:", e.failed[len(e.failed)-1])
	}
	return c.ID, got, took, cpu, nil
}

// recompute asks for an analytics recompute (POST /analytics/recompute
// enqueues its River job) and waits, polling River's job table with a
// cheap query, until that job has completed; it returns the time from the
// request to completion. It then reads the summary once and checks that
// its computed_at moved, returning that read's time too. (Polling the
// summary itself, as earlier versions did, measured a recompute sharing
// two cores with a stream of full summary reads.)
func (e *env) recompute(ctx context.Context) (took, summaryRead time.Duration, err error) {
	type summary struct {
		ComputedAt *time.Time `json:"computed_at"`
	}
	var s0 summary
	if err := e.srv.Call(ctx, http.MethodGet, "/analytics/summary", nil, &s0); err != nil {
		return 0, 0, err
	}
	var before int64
	if err := e.pool.QueryRow(ctx, `SELECT coalesce(max(id), 0) FROM river_job WHERE kind = 'analytics_recompute'`).Scan(&before); err != nil {
		return 0, 0, err
	}
	t0 := time.Now()
	if err := e.srv.Call(ctx, http.MethodPost, "/analytics/recompute", nil, nil); err != nil {
		return 0, 0, err
	}
	for {
		var state string
		err := e.pool.QueryRow(ctx, `SELECT state::text FROM river_job WHERE kind = 'analytics_recompute' AND id > $1 ORDER BY id LIMIT 1`, before).Scan(&state)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return 0, 0, err
		}
		if state == "completed" {
			took = time.Since(t0)
			break
		}
		if state == "discarded" || state == "cancelled" {
			return 0, 0, fmt.Errorf("analytics recompute job %s", state)
		}
		if err := sleepCtx(ctx, 100*time.Millisecond); err != nil {
			return 0, 0, err
		}
	}
	t1 := time.Now()
	var s summary
	if err := e.srv.Call(ctx, http.MethodGet, "/analytics/summary", nil, &s); err != nil {
		return 0, 0, err
	}
	summaryRead = time.Since(t1)
	if s.ComputedAt == nil || (s0.ComputedAt != nil && !s.ComputedAt.After(*s0.ComputedAt)) {
		return 0, 0, fmt.Errorf("analytics recompute completed but the summary's computed_at did not move (%v → %v)", s0.ComputedAt, s.ComputedAt)
	}
	return took, summaryRead, nil
}

// lastLine is the last non-empty line of the progress text s, whose lines
// may end in carriage returns.
func lastLine(s string) string {
	lines := strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' })
	if len(lines) == 0 {
		return ""
	}
	return strings.TrimSpace(lines[len(lines)-1])
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

// median runs f runs times and returns the median duration.
func median(runs int, f func() error) (time.Duration, error) {
	ds := make([]time.Duration, 0, runs)
	for range runs {
		t0 := time.Now()
		if err := f(); err != nil {
			return 0, err
		}
		ds = append(ds, time.Since(t0))
	}
	slices.Sort(ds)
	return ds[len(ds)/2], nil
}

// countWriter counts the bytes and lines written to it.
type countWriter struct{ bytes, lines int64 }

func (w *countWriter) Write(p []byte) (int, error) {
	w.bytes += int64(len(p))
	for _, b := range p {
		if b == '\n' {
			w.lines++
		}
	}
	return len(p), nil
}

var (
	countries = []string{"IR", "DE", "FR", "US", "GB", "TR", "AE", "NL"}
	cities    = []string{"Tehran", "Shiraz", "Berlin", "Paris", "Boston", "London", "Istanbul", "Dubai", "Tabriz"}
	plans     = []string{"free", "free", "free", "pro", "team"}
)

// writeCSV writes add contacts numbered after have, as an import file.
func writeCSV(path string, have, add int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	fmt.Fprintln(w, "email,name,country,city,plan")
	for i := have + 1; i <= have+add; i++ {
		h := uint64(i) * 2654435761
		fmt.Fprintf(w, "s%d@example.com,Contact %d,%s,%s,%s\n", i, i, countries[h%uint64(len(countries))],
			cities[(h>>8)%uint64(len(cities))], plans[(h>>16)%uint64(len(plans))])
	}
	if err := w.Flush(); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

const (
	benchSubject = "Hello {{ .Contact.Name }}"
	benchHTML    = `<html><body><h1>Spring sale</h1><p>Dear {{ .Contact.Name }}, the spring collection is here.</p>
		<p><a href="https://shop.example/new">New arrivals</a> · <a href="https://shop.example/pricing">Pricing</a></p>
		<p>{{ .Contact.Attributes.city | default "your city" }} store opens at 9.</p>
		<p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p></body></html>`
)
