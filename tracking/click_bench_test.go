package tracking

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/peykar/peykar/internal/httpapi"
	"github.com/peykar/peykar/migrations/pgtest"
)

// BenchmarkClickInbox is a click through peykar's middleware (composed
// once, as cmd/peykar serves the click), the click
// handler and the inbox's group commit to a real PostgreSQL, from many
// goroutines at once (as many connections would), without the network:
// the Go side of a click. cpu-ns/op is this process's CPU per click
// (user and system); allocs/op counts every goroutine's allocations. The
// follower folds at most once an hour here, so its work (measured by the
// follower's own tests and bench/tracking) stays out of these figures.
func BenchmarkClickInbox(b *testing.B) {
	ctx := context.Background()
	pool := pgtest.NewPool(b)
	signer := testSigner()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc, err := NewService(Config{Pool: pool, Signer: signer, Logger: logger, FoldEvery: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	if err := svc.Start(ctx); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = svc.Close(context.WithoutCancel(ctx)) })
	e := echo.New()
	e.HTTPErrorHandler = httpapi.ErrorHandler(logger)
	e.IPExtractor = echo.ExtractIPDirect()
	mws := append(httpapi.Middleware(logger, prometheus.NewRegistry()), httpapi.SecurityHeaders(httpapi.SecurityConfig{
		Rules: []httpapi.HeaderRule{{Prefix: "/t", Headers: httpapi.Headers{CSP: "default-src 'none'", Referrer: "no-referrer"}}},
	}))
	// As cmd/peykar serves clicks: the chain composed once (HotRoutes).
	svc.HotRoutes(e, func(h echo.HandlerFunc) echo.HandlerFunc { return httpapi.Compose(h, mws...) })

	const deliveries, links = 20000, 3
	var campaign, first int64
	if err := pool.QueryRow(ctx, `INSERT INTO campaigns (name, status, settings) VALUES ('b', 'running', '{"utm":{"source":"peykar"}}') RETURNING id`).Scan(&campaign); err != nil {
		b.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO campaign_links (campaign_id, step, idx, url) SELECT $1, 'main', i, 'https://shop.example/p/' || i FROM generate_series(0, $2 - 1) i`, campaign, links); err != nil {
		b.Fatal(err)
	}
	if err := pool.QueryRow(ctx, `WITH c AS (INSERT INTO contacts (email) SELECT 'b' || i || '@example.com' FROM generate_series(1, $2) i RETURNING id),
		d AS (INSERT INTO deliveries (campaign_id, step, contact_id, status, sent_at) SELECT $1, 'main', id, 'sent', now() FROM c ORDER BY id RETURNING id)
		SELECT min(id) FROM d`, campaign, deliveries).Scan(&first); err != nil {
		b.Fatal(err)
	}
	reqs := make([]*http.Request, 0, deliveries*links)
	for d := range int64(deliveries) {
		for l := range links {
			r := httptest.NewRequest(http.MethodGet, signer.ClickURL("http://peykar.test", first+d, l, ""), nil)
			r.Header.Set("User-Agent", browserUA)
			reqs = append(reqs, r)
		}
	}

	var next atomic.Int64
	var failed atomic.Int64
	b.SetParallelism(32)
	b.ReportAllocs()
	cpu0 := processCPU()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		w := &benchWriter{h: http.Header{}}
		for pb.Next() {
			clear(w.h)
			w.code = 0
			e.ServeHTTP(w, reqs[int(next.Add(1))%len(reqs)])
			if w.code != http.StatusFound {
				failed.Add(1)
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N), "cpu-ns/op")
	if n := failed.Load(); n > 0 {
		b.Fatalf("%d clicks not answered 302", n)
	}
}

type benchWriter struct {
	h    http.Header
	code int
}

func (w *benchWriter) Header() http.Header         { return w.h }
func (w *benchWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *benchWriter) WriteHeader(code int)        { w.code = code }

// processCPU is this process's CPU time so far (user and system).
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
