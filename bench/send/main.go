// Command send measures the sending engine end to end: N contacts, one
// campaign, River workers rendering and sending over go-mail to an SMTP sink
// on loopback. It prints messages/s, peak RSS, and the rate of a bare go-mail
// loop to the same sink (the ceiling).
//
//	go run ./bench/send -n 100000 -pool 16
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"log/slog"
	"os"
	"runtime"
	"runtime/pprof"
	"sync"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/wneessen/go-mail"

	"github.com/peykar/peykar/bench/internal/benchdb"
	"github.com/peykar/peykar/campaigns"
	"github.com/peykar/peykar/engine"
	"github.com/peykar/peykar/engine/mailer"
	"github.com/peykar/peykar/internal/baseservice"
	"github.com/peykar/peykar/internal/runtimetune"
	"github.com/peykar/peykar/internal/smtptest"
	"github.com/peykar/peykar/templates"
	"github.com/peykar/peykar/tracking"
)

func main() {
	n := flag.Int("n", 100000, "contacts (messages)")
	poolSize := flag.Int("pool", 16, "SMTP connections")
	workers := flag.Int("workers", 0, "concurrent send jobs (default 2×pool)")
	bare := flag.Bool("bare", true, "also measure a bare go-mail loop")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the engine run to this file")
	ab := flag.Bool("ab", false, "send with a 2-variant A/B test on test_share 1.0 (everyone gets a variant)")
	flag.Parse()
	if *workers == 0 {
		*workers = 2 * *poolSize
	}
	runtimetune.Apply() // as peykar itself runs
	ctx := context.Background()
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

	sink, err := smtptest.Start(smtptest.Options{Discard: true})
	check(err)
	defer sink.Close()

	var ceiling, ceilingCPU float64
	if *bare {
		before := benchdb.SampleCPU("")
		ceiling = bareLoop(*n, *poolSize, sink.Port())
		used := benchdb.SampleCPU("").Sub(before)
		ceilingCPU = float64(*n) / used.Self.Seconds() * float64(runtime.NumCPU()) / float64(runtime.NumCPU())
		fmt.Printf("bare go-mail loop: %d msgs in pool %d → %.0f msgs/s (%.0f µs CPU per message)\n",
			*n, *poolSize, ceiling, float64(used.Self.Microseconds())/float64(*n))
	}
	before := sink.Count()

	cluster, err := benchdb.OpenCluster(ctx, int32(*workers+20))
	check(err)
	defer cluster.Close()
	pool := cluster.Pool
	t0 := time.Now()
	_, err = pool.Exec(ctx, `INSERT INTO contacts (email, name, attributes)
		SELECT 'user' || i || '@example.com', 'User ' || i, jsonb_build_object('city', (ARRAY['Tehran','Shiraz','Berlin'])[1 + i % 3])
		FROM generate_series(1, $1) i`, *n)
	check(err)
	var segID, tplID int64
	check(pool.QueryRow(ctx, `INSERT INTO segments (name, rule) VALUES ('all', 'true') RETURNING id`).Scan(&segID))
	check(pool.QueryRow(ctx, `INSERT INTO templates (name, subject, html) VALUES ('bench', $1, $2) RETURNING id`, benchSubject, benchHTML).Scan(&tplID))
	fmt.Printf("seeded %d contacts in %s\n", *n, time.Since(t0).Round(time.Millisecond))

	smtpOut, err := mailer.New(mailer.Config{Host: "127.0.0.1", Port: sink.Port(), TLS: mailer.TLSNone, Pool: *poolSize}, baseservice.New(logger, nil))
	check(err)
	signer := tracking.NewSigner(tracking.Keys{Current: []byte("bench-secret-bench-secret-bench-secret")})
	eng := engine.New(engine.Config{Pool: pool, Mailer: smtpOut, Signer: signer, BaseURL: "https://peykar.example", Logger: logger})
	ws := river.NewWorkers()
	eng.Register(ws)
	client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{
		Queues: engine.QueueConfig(*workers), Workers: ws, Logger: logger,
		FetchCooldown: 20 * time.Millisecond, FetchPollInterval: 100 * time.Millisecond,
	})
	check(err)
	eng.SetClient(client)
	check(client.Start(ctx))
	defer func() { _ = client.Stop(ctx) }()

	svc := &campaigns.Service{Pool: pool, Runtime: eng, Logger: logger}
	c := campaigns.Campaign{Name: "bench", SegmentID: &segID, From: campaigns.Address{Name: "Shop", Email: "news@shop.example"},
		Steps: []campaigns.Step{{Key: "main", TemplateID: tplID}}}
	if *ab {
		c.Steps[0].Variants = []campaigns.Variant{{Key: "A"}, {Key: "B", Subject: "Spring B {{ .Contact.Name }}"}}
		c.ABTest = &campaigns.ABTest{Step: "main", TestShare: 1, Metric: campaigns.ABMetricCTR, Duration: "4h"}
	}
	check(svc.Create(ctx, &c))
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		check(err)
		check(pprof.StartCPUProfile(f))
		defer pprof.StopCPUProfile()
	}
	cpuBefore := benchdb.SampleCPU(cluster.DataDir)
	start := time.Now()
	_, err = svc.Launch(ctx, c.ID)
	check(err)
	var launched time.Duration
	for {
		st, _, err := campaigns.StatusOf(ctx, pool, c.ID)
		check(err)
		if st == campaigns.StatusFinished {
			break
		}
		if launched == 0 {
			if ls, err := campaigns.GetLaunchState(ctx, pool, c.ID); err == nil && ls.Done {
				launched = time.Since(start)
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	fmt.Printf("launch walked the segment in %s\n", launched.Round(time.Millisecond))
	elapsed := time.Since(start)
	used := benchdb.SampleCPU(cluster.DataDir).Sub(cpuBefore)
	got := sink.Count() - before
	rate := float64(got) / elapsed.Seconds()
	var sent int
	check(pool.QueryRow(ctx, `SELECT count(*) FROM deliveries WHERE campaign_id = $1 AND status = 'sent'`, c.ID).Scan(&sent))
	fmt.Printf("engine: %d msgs (%d deliveries sent) in %s → %.0f msgs/s end to end (launch to finished)\n", got, sent, elapsed.Round(time.Millisecond), rate)
	perMsg := (used.Self + used.DB).Seconds() / float64(got)
	fmt.Printf("cpu: this process (engine + sink) %.2fs, PostgreSQL %.2fs = %.0f µs per message; 2 cores fully ours would do ~%.0f msgs/s\n",
		used.Self.Seconds(), used.DB.Seconds(), perMsg*1e6, 2/perMsg)
	if ceiling > 0 {
		fmt.Printf("engine / bare ceiling: %.0f%% by wall clock; by CPU cost the ceiling would do ~%.0f msgs/s on 2 cores, the engine %.0f%% of that\n",
			100*rate/ceiling, 2*ceilingCPU, 100*(2/perMsg)/(2*ceilingCPU))
	}
	benchdb.PrintStatements(ctx, pool, os.Stdout)
	fmt.Printf("peak RSS: %.0f MB (GOMAXPROCS %d)\n", benchdb.PeakRSS(), runtime.GOMAXPROCS(0))
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
