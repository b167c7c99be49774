package tracking

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/peykar/peykar/migrations/pgtest"
)

// BenchmarkFold is one fold of a full batch (FoldBatch) of first clicks,
// each on its own delivery and contact, from event_inbox into events and
// everything derived, on a real PostgreSQL: the follower's share of a
// click under load. cpu-ns/event is this process's CPU per folded event
// (user and system: the Go side, decoding, classifying, accounting and
// encoding; PostgreSQL runs in its own process); allocs/op are per fold.
// The inbox is filled between folds, outside the timer.
func BenchmarkFold(b *testing.B) {
	ctx := context.Background()
	pool := pgtest.NewPool(b)
	svc, err := NewService(Config{Pool: pool, Signer: testSigner(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	// Not started: the benchmark folds itself.
	const links = 3
	size := svc.cfg.FoldBatch
	deliveries := 10 * size
	var campaign, first int64
	if err := pool.QueryRow(ctx, `INSERT INTO campaigns (name, status, settings) VALUES ('b', 'running', '{"utm":{"source":"peykar"}}') RETURNING id`).Scan(&campaign); err != nil {
		b.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO campaign_links (campaign_id, step, idx, url) SELECT $1, 'main', i, 'https://shop.example/p/' || i FROM generate_series(0, $2 - 1) i`, campaign, links); err != nil {
		b.Fatal(err)
	}
	sent := time.Now().Add(-time.Hour)
	if err := pool.QueryRow(ctx, `WITH c AS (INSERT INTO contacts (email) SELECT 'f' || i || '@example.com' FROM generate_series(1, $2) i RETURNING id),
		d AS (INSERT INTO deliveries (campaign_id, step, contact_id, status, sent_at) SELECT $1, 'main', id, 'sent', $3 FROM c ORDER BY id RETURNING id)
		SELECT min(id) FROM d`, campaign, deliveries, sent).Scan(&first); err != nil {
		b.Fatal(err)
	}
	next := 0 // the next click, as delivery first+next%deliveries, link next/deliveries%links
	fill := func() {
		if _, err := pool.Exec(ctx, `INSERT INTO event_inbox (id, delivery_id, type, link_idx, url, machine, reason, user_agent, ip, occurred_at)
			SELECT nextval('events_id_seq'), $1 + (n % $3), 'click', (n / $3) % $4, '', false, '', $5, '203.0.113.7', now()
			FROM generate_series($2::bigint, $2 + $6 - 1) n`, first, next, deliveries, links, browserUA, size); err != nil {
			b.Fatal(err)
		}
		next += size
	}
	b.ReportAllocs()
	var cpu time.Duration
	for b.Loop() {
		b.StopTimer()
		fill()
		b.StartTimer()
		cpu0 := processCPU()
		n, err := svc.follower.fold(ctx, size)
		cpu += processCPU() - cpu0
		if err != nil {
			b.Fatal(err)
		}
		if n != size {
			b.Fatalf("folded %d events, want %d", n, size)
		}
	}
	b.ReportMetric(float64(cpu)/float64(b.N*size), "cpu-ns/event")
}
