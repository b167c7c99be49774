// Command analytics measures a full analytics recompute (RFM, value, churn,
// the response model with its hold-out evaluation, k-means and campaign
// anomalies) at scale. It generates contacts, campaigns, deliveries, events,
// rollups and transactions with SQL generate_series, then times Recompute
// twice (the first run writes every score, the second only what changed)
// and reports the Go process's resident memory, sampled during the runs.
//
//	go run ./bench/analytics -contacts 1000000 -events 10000000
//
// It uses DATABASE_URL, or starts a throwaway embedded PostgreSQL.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"log/slog"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/peykar/peykar/bench/internal/benchdb"
	"github.com/peykar/peykar/campaigns/analytics"
)

func main() {
	n := flag.Int("contacts", 1000000, "contacts")
	events := flag.Int("events", 10000000, "tracking events (two per delivery: deliveries = events/2)")
	campaigns := flag.Int("campaigns", 40, "campaigns")
	buyers := flag.Float64("buyers", 0.2, "fraction of contacts with purchases")
	reuse := flag.Bool("reuse", false, "with DATABASE_URL: keep the data already generated there (skip generating when it holds the contacts)")
	recomputes := flag.Int("recomputes", 2, "recomputes to time (0: only the summary reads)")
	summaries := flag.Int("summaries", 5, "GET /analytics/summary reads (analytics.GetSummary) to time after the recomputes")
	rescore := flag.Bool("rescore", false, "with -reuse: delete the stored scores first, so the first recompute writes every score as on a new base")
	flag.Parse()
	ctx := context.Background()

	pool, cleanup, err := benchdb.Open(ctx, 8)
	check(err)
	defer cleanup()

	t0 := time.Now()
	var have int64
	check(pool.QueryRow(ctx, `SELECT count(*) FROM contacts`).Scan(&have))
	verb := "reused"
	if !*reuse || have < int64(*n) {
		generate(ctx, pool, *n, *events, *campaigns, *buyers)
		verb = "generated"
	}
	var nd, ne, nt int64
	check(pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM deliveries), (SELECT count(*) FROM events), (SELECT count(*) FROM transactions)`).Scan(&nd, &ne, &nt))
	fmt.Printf("%s %d contacts, %d campaigns, %d deliveries, %d events, %d transactions in %s\n",
		verb, *n, *campaigns, nd, ne, nt, time.Since(t0).Round(time.Second))
	fmt.Printf("RSS after generating: %.0f MB\n", benchdb.RSS())
	if *rescore {
		_, err := pool.Exec(ctx, `TRUNCATE contact_scores`)
		check(err)
		_, err = pool.Exec(ctx, `VACUUM ANALYZE contact_scores`)
		check(err)
		fmt.Println("stored scores deleted (-rescore)")
	}

	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	meter := newCPUMeter(ctx, pool)
	for i, label := range []string{"first recompute (every score written)", "second recompute (a minute later: only changed scores written)"}[:min(max(*recomputes, 0), 2)] {
		var peak atomic.Int64
		stop := make(chan struct{})
		done := make(chan struct{})
		go func() {
			defer close(done)
			tk := time.NewTicker(50 * time.Millisecond)
			defer tk.Stop()
			for {
				if r := int64(benchdb.RSS()); r > peak.Load() {
					peak.Store(r)
				}
				select {
				case <-stop:
					return
				case <-tk.C:
				}
			}
		}()
		runtime.GC()
		selfCPU, pgCPU, backends := meter.self(), meter.server(), clientBackends(ctx, pool)
		start := time.Now()
		perStep := newStepCPU(ctx, pool)
		res, err := analytics.Recompute(ctx, pool, analytics.Config{Now: now.Add(time.Duration(i) * time.Minute)}, slog.New(perStep))
		check(err)
		took := time.Since(start)
		close(stop)
		<-done
		var steps []string
		for _, s := range res.Steps {
			steps = append(steps, fmt.Sprintf("%s %s", s.Step, s.Elapsed.Round(time.Millisecond)))
		}
		selfCPU, pgCPU = meter.self()-selfCPU, meter.server()-pgCPU
		backendsCPU := clientBackends(ctx, pool).since(backends)
		fmt.Printf("%s: %s total (%s); %d score rows written; peak RSS during run %d MB\n",
			label, took.Round(time.Millisecond), strings.Join(steps, ", "), res.Scored, peak.Load())
		fmt.Printf("  cpu: this process %s, PostgreSQL cluster %s, its client backends %s = %.1f µs per contact (0 when not local); load average %s\n",
			selfCPU.Round(time.Millisecond), pgCPU.Round(10*time.Millisecond), backendsCPU.Round(10*time.Millisecond),
			float64(backendsCPU.Microseconds())/float64(*n), benchdb.LoadAvg())
		fmt.Printf("  client backends' cpu by step: %s\n", perStep)
		if i == 0 {
			for _, m := range res.Models {
				e := m.Evaluation
				fmt.Printf("  response model %s: prior α=%.3f β=%.3f; hold-out %v: %d recipients, base rate %.4f, top decile %.4f, lift %.2f [%.2f, %.2f], AUC %.3f ± %.3f\n",
					m.Channel, m.Prior.Alpha, m.Prior.Beta, e.HoldoutCampaigns, e.Recipients, e.BaseRate, e.TopDecileRate, e.Lift, e.LiftLow, e.LiftHigh, e.AUC, e.AUCSE)
			}
			for _, c := range res.Clusters {
				fmt.Printf("  cluster %d: %d contacts — %s\n", c.ID, c.Size, c.Description)
			}
			fmt.Printf("  anomalies flagged: %d\n", len(res.Anomalies))
		}
	}
	timeSummaries(ctx, pool, *summaries, *n)
	fmt.Printf("peak RSS of the process (VmHWM): %.0f MB\n", benchdb.PeakRSS())
}

// generate fills the database. Contacts have a latent engagement level
// (id % 10) that drives opens, clicks and purchases, so the response model
// and clusters have structure to find.
func generate(ctx context.Context, pool *pgxpool.Pool, n, events, campaigns int, buyers float64) {
	deliveries := events / 2
	perCampaign := max(deliveries/campaigns, 1)
	stmts := []string{
		`SELECT setseed(0.42)`,
		fmt.Sprintf(`INSERT INTO contacts (email, created_at)
			SELECT 'u' || g || '@example.com', $1::timestamptz - make_interval(days => (30 + (g::bigint * 7919) %% 700)::int)
			FROM generate_series(1, %d) g`, n),
		fmt.Sprintf(`INSERT INTO campaigns (name, status, channel, launched_at, created_at)
			SELECT 'campaign ' || g, 'finished', 'email', $1::timestamptz - make_interval(days => 7 * (%d - g + 1)),
				$1::timestamptz - make_interval(days => 7 * (%d - g + 1))
			FROM generate_series(1, %d) g`, campaigns, campaigns, campaigns),
		// Each campaign goes to a pseudo-random slice of the base.
		fmt.Sprintf(`INSERT INTO deliveries (campaign_id, step, contact_id, status, sent_at, first_open_at, first_click_at)
			SELECT id, 'main', cid, 'sent', at,
				CASE WHEN r < 0.05 + 0.04 * (cid %% 10) THEN at + interval '2 hours' END,
				CASE WHEN r < 0.005 + 0.012 * (cid %% 10) THEN at + interval '3 hours' END
			FROM (SELECT cp.id, cp.launched_at AS at, 1 + ((cp.id * 104729 + g::bigint * 7) %% %d) AS cid, random() AS r
				FROM campaigns cp, generate_series(1, %d) g) x`, n, perCampaign),
		// Two events per delivery (an open and a click or a machine open).
		`INSERT INTO events (delivery_id, campaign_id, step, contact_id, type, machine, occurred_at)
			SELECT d.id, d.campaign_id, d.step, d.contact_id,
				CASE WHEN k = 1 THEN 'open' WHEN d.first_click_at IS NOT NULL THEN 'click' ELSE 'open' END,
				k = 2 AND d.first_click_at IS NULL, d.sent_at + make_interval(mins => k)
			FROM deliveries d, generate_series(1, 2) k`,
		`INSERT INTO contact_stats (contact_id, sent, opens, clicks, last_open_at, last_click_at)
			SELECT contact_id, count(*), count(first_open_at), count(first_click_at), max(first_open_at), max(first_click_at)
			FROM deliveries GROUP BY contact_id`,
		fmt.Sprintf(`INSERT INTO transactions (contact_id, type, value, occurred_at)
			SELECT c.id, 'purchase', round((10 + random() * 40 * (1 + c.id %% 10))::numeric, 2),
				$1::timestamptz - make_interval(days => ((random() * 700 / (1 + c.id %% 10)) + (c.id %% 7) * 20)::int)
			FROM contacts c, generate_series(1, 10) k
			WHERE (c.id * 2654435761) %% 1000 < %d AND k <= 1 + c.id %% 10`, int(buyers*1000)),
		`INSERT INTO rollups (campaign_id, step, metric, bucket, count)
			SELECT campaign_id, 'main', m.metric, min(sent_at), m.n FROM (
				SELECT campaign_id, min(sent_at) AS sent_at, count(*) AS sent, count(first_open_at) AS uo,
					count(first_click_at) AS uc FROM deliveries GROUP BY campaign_id) d,
				LATERAL (VALUES ('sent', d.sent), ('unique_opens', d.uo), ('unique_clicks', d.uc),
					('bounces', d.sent / 100), ('unsubscribes', d.sent / 500)) m(metric, n)
			GROUP BY campaign_id, m.metric, m.n`,
		`ANALYZE`,
	}
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	conn, err := pool.Acquire(ctx)
	check(err)
	defer conn.Release()
	for _, s := range stmts {
		t0 := time.Now()
		var err error
		if strings.Contains(s, "$1") {
			_, err = conn.Exec(ctx, s, now)
		} else {
			_, err = conn.Exec(ctx, s)
		}
		check(err)
		fmt.Printf("  %-60.60s %s\n", strings.Join(strings.Fields(s), " "), time.Since(t0).Round(time.Millisecond))
	}
}

func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
