package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/peykar/peykar/bench/internal/benchdb"
)

// bench is one run's state.
type bench struct {
	ctx    context.Context
	pool   *pgxpool.Pool
	srv    *server
	o      options
	pgData string
	client *http.Client
	tpl    int64

	// sent are the timed messages: id → when the client called.
	mu       sync.Mutex
	called   map[int64]time.Time
	answers  []time.Duration // API answer times of the timed run
	all      map[int64]bool  // every message id answered (warm-up and timed)
	bodies   map[string]body // key → its body, for the replays
	keyIDs   map[string]int64
	start    time.Time
	end      time.Time
	cpu0     map[string]time.Duration
	cpu1     map[string]time.Duration
	failures []string
}

type body struct {
	TemplateID    int64          `json:"template_id"`
	To            string         `json:"to"`
	Data          map[string]any `json:"data"`
	Transactional bool           `json:"transactional"`
}

const benchHTML = `<!doctype html><html><body><p>Hello {{ .Contact.Name }},</p>` +
	`<p>Your order <b>{{ .Data.order_id }}</b> of {{ .Data.total }} is confirmed.</p>` +
	`<p><a href="https://shop.example/orders">Your orders</a></p></body></html>`

func (b *bench) run() error {
	b.client = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: b.o.clients + 8, MaxConnsPerHost: b.o.clients + 8}, Timeout: time.Minute}
	b.called, b.all, b.bodies, b.keyIDs = map[int64]time.Time{}, map[int64]bool{}, map[string]body{}, map[string]int64{}
	var tpl struct{ ID int64 }
	code, out, _, err := b.post("/api/v1/templates", b.srv.admin, "", map[string]any{"name": "receipt", "subject": "Order {{ .Data.order_id }}",
		"html": benchHTML, "transactional": true})
	if err != nil || code != http.StatusCreated {
		return fmt.Errorf("create template: %d %s %v", code, out, err)
	}
	if err := json.Unmarshal([]byte(out), &tpl); err != nil {
		return err
	}
	b.tpl = tpl.ID
	fmt.Printf("warm-up: %d messages\n", b.o.warm)
	if err := b.send("warm", b.o.warm, 0, false); err != nil {
		return err
	}
	if err := b.waitDone(b.o.warm); err != nil {
		return err
	}
	fmt.Printf("timed: %d messages from %d clients at %.0f/s offered\n", b.o.n, b.o.clients, b.o.rate)
	b.cpu0 = b.sampleCPU()
	b.start = time.Now()
	if err := b.send("run", b.o.n, b.o.rate, true); err != nil {
		return err
	}
	posted := time.Since(b.start)
	if err := b.waitDone(b.o.warm + b.o.n); err != nil {
		return err
	}
	b.end = time.Now()
	b.cpu1 = b.sampleCPU()
	fmt.Printf("posted in %s (%.0f calls/s answered); all sent %s after the first call\n",
		posted.Round(time.Millisecond), float64(b.o.n)/posted.Seconds(), b.end.Sub(b.start).Round(time.Millisecond))
	return b.replay()
}

// send posts n messages keyed prefix-i from the clients, paced at rate
// (0: unpaced); timed records their call times and answer times.
func (b *bench) send(prefix string, n int, rate float64, timed bool) error {
	next := atomic.Int64{}
	start := time.Now()
	var wg sync.WaitGroup
	errc := make(chan error, b.o.clients)
	for range b.o.clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(n) {
					return
				}
				if rate > 0 {
					if d := time.Until(start.Add(time.Duration(float64(i) / rate * float64(time.Second)))); d > 0 {
						time.Sleep(d)
					}
				}
				key := fmt.Sprintf("%s-%d", prefix, i)
				bd := body{TemplateID: b.tpl, To: fmt.Sprintf("user%d@example.com", 1+i%int64(b.o.contacts)),
					Data: map[string]any{"order_id": key, "total": "49.50 EUR"}, Transactional: true}
				t0 := time.Now()
				code, out, _, err := b.post("/api/v1/messages", b.srv.token, key, bd)
				took := time.Since(t0)
				if err == nil && code != http.StatusAccepted {
					err = fmt.Errorf("POST /messages %d: %s", code, out)
				}
				var a struct{ ID int64 }
				if err == nil {
					err = json.Unmarshal([]byte(out), &a)
				}
				if err != nil {
					errc <- err
					return
				}
				b.mu.Lock()
				b.all[a.ID] = true
				b.bodies[key], b.keyIDs[key] = bd, a.ID
				if timed {
					b.called[a.ID] = t0
					b.answers = append(b.answers, took)
				}
				b.mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errc)
	return <-errc
}

func (b *bench) post(path, token, key string, v any) (int, string, http.Header, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return 0, "", nil, err
	}
	req, err := http.NewRequestWithContext(b.ctx, http.MethodPost, b.srv.base+path, bytes.NewReader(raw))
	if err != nil {
		return 0, "", nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	resp, err := b.client.Do(req)
	if err != nil {
		return 0, "", nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(out), resp.Header, err
}

// waitDone waits until total messages have left "queued".
func (b *bench) waitDone(total int) error {
	deadline := time.Now().Add(10 * time.Minute)
	for {
		var done, sent int
		if err := b.pool.QueryRow(b.ctx, `SELECT count(*) FILTER (WHERE status <> 'queued'), count(*) FILTER (WHERE status = 'sent') FROM messages`).Scan(&done, &sent); err != nil {
			return err
		}
		if done >= total {
			if sent != total {
				b.failures = append(b.failures, fmt.Sprintf("%d of %d messages sent", sent, total))
			}
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d of %d messages done after 10 minutes", done, total)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// replay posts some keys again with their bodies: each must answer its
// first answer, marked replayed, and nothing new may be stored or queued.
func (b *bench) replay() error {
	keys := make([]string, 0, len(b.bodies))
	for k := range b.bodies {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	step := max(1, len(keys)/max(1, b.o.replays))
	n := 0
	for i := 0; i < len(keys) && n < b.o.replays; i += step {
		k := keys[i]
		code, out, h, err := b.post("/api/v1/messages", b.srv.token, k, b.bodies[k])
		if err != nil {
			return err
		}
		var a struct{ ID int64 }
		_ = json.Unmarshal([]byte(out), &a)
		if code != http.StatusAccepted || a.ID != b.keyIDs[k] || h.Get("Idempotent-Replayed") != "true" {
			b.failures = append(b.failures, fmt.Sprintf("replay of %s: %d %s", k, code, out))
		}
		n++
	}
	// Messages are queued in batch jobs (message_batch, several messages
	// each; one job each before batching: message): every message must be
	// carried by exactly one job.
	var msgs, carried, distinct, jobs int
	if err := b.pool.QueryRow(b.ctx, `SELECT (SELECT count(*) FROM messages), count(*), count(DISTINCT mid), count(DISTINCT jid)
		FROM (SELECT j.id AS jid, m->>'message_id' AS mid FROM river_job j, jsonb_array_elements(j.args->'messages') m
			WHERE j.kind = 'message_batch'
			UNION ALL SELECT id, args->>'message_id' FROM river_job WHERE kind = 'message') x`).Scan(&msgs, &carried, &distinct, &jobs); err != nil {
		return err
	}
	want := b.o.warm + b.o.n
	if msgs != want || carried != want || distinct != want {
		b.failures = append(b.failures, fmt.Sprintf("after %d replays: %d messages, %d carried by jobs (%d distinct) (want %d)", n, msgs, carried, distinct, want))
	}
	fmt.Printf("replayed %d keys: the first answers, %d messages stored, carried once each by %d jobs (want %d)\n", n, msgs, jobs, want)
	return nil
}

// sampleCPU reads the CPU time so far of the server, the database and
// this process.
func (b *bench) sampleCPU() map[string]time.Duration {
	srvCPU := b.srv.CPU()
	c := benchdb.SampleCPU(b.pgData)
	return map[string]time.Duration{"peykar serve": srvCPU, "PostgreSQL": c.DB, "clients (this process)": c.Self}
}

// report checks the sink's acceptances against the answers and prints
// the numbers.
func (b *bench) report(acc []acceptance) error {
	seen := map[int64]int{}
	var lat []time.Duration
	var last time.Time
	for _, a := range acc {
		seen[a.id]++
		if t0, ok := b.called[a.id]; ok && seen[a.id] == 1 {
			at := time.Unix(0, a.at)
			lat = append(lat, at.Sub(t0))
			if at.After(last) {
				last = at
			}
		}
	}
	for id := range b.all {
		if seen[id] != 1 {
			b.failures = append(b.failures, fmt.Sprintf("message %d accepted %d times", id, seen[id]))
		}
	}
	for id, n := range seen {
		if !b.all[id] {
			b.failures = append(b.failures, fmt.Sprintf("the sink got message %d (%d times) that no client sent", id, n))
		}
	}
	fmt.Printf("sink accepted %d messages (%d distinct); clients were answered for %d\n", len(acc), len(seen), len(b.all))
	slices.Sort(lat)
	slices.Sort(b.answers)
	wall := last.Sub(b.start)
	fmt.Println()
	fmt.Printf("| transactional, N = %d, %d clients, %.0f/s offered | value |\n|---|---:|\n", b.o.n, b.o.clients, b.o.rate)
	fmt.Printf("| messages/s (first call to last SMTP acceptance) | %.0f |\n", float64(len(lat))/wall.Seconds())
	for _, q := range []struct {
		name string
		p    float64
	}{{"p50", 0.50}, {"p95", 0.95}, {"p99", 0.99}, {"max", 1}} {
		fmt.Printf("| API call → SMTP acceptance %s | %s |\n", q.name, ms(pct(lat, q.p)))
	}
	fmt.Printf("| API answer p50 / p99 | %s / %s |\n", ms(pct(b.answers, 0.5)), ms(pct(b.answers, 0.99)))
	span := b.end.Sub(b.start).Seconds()
	for _, k := range []string{"peykar serve", "PostgreSQL", "clients (this process)"} {
		d := b.cpu1[k] - b.cpu0[k]
		fmt.Printf("| CPU %s | %.2f s (%.0f%% of one core; %.0f µs per message) |\n", k, d.Seconds(), 100*d.Seconds()/span, float64(d.Microseconds())/float64(b.o.n))
	}
	peak := b.srv.PeakRSS()
	fmt.Printf("| peykar serve peak RSS | %.0f MB |\n", peak)
	fmt.Printf("\nload average at the end: %s\n", benchdb.LoadAvg())
	if len(b.failures) > 0 {
		fmt.Fprintln(os.Stderr, strings.Join(b.failures[:min(20, len(b.failures))], "\n"))
		return fmt.Errorf("ground truth failed (%d problems)", len(b.failures))
	}
	fmt.Println("ground truth: every message accepted exactly once; replayed keys sent nothing")
	return nil
}

func pct(s []time.Duration, p float64) time.Duration {
	if len(s) == 0 {
		return 0
	}
	return s[min(len(s)-1, int(p*float64(len(s))))]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }
