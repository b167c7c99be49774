package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/peykar/peykar/bench/internal/benchdb"
)

type client struct {
	base, token string
	http        *http.Client
	clients     int
}

func newClient(base, token string, clients int) *client {
	tr := &http.Transport{MaxIdleConns: clients, MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients}
	return &client{base: base, token: token, clients: clients, http: &http.Client{Transport: tr, Timeout: time.Minute}}
}

// call sends body as JSON and decodes the answer into out (may be nil).
func (c *client) call(ctx context.Context, method, path string, body, out any) (int, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return 0, err
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, bytes.NewReader(b))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, err
	}
	if resp.StatusCode >= 300 {
		return resp.StatusCode, fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, raw)
	}
	if out != nil {
		return resp.StatusCode, json.Unmarshal(raw, out)
	}
	return resp.StatusCode, nil
}

// journey creates the template and the event-triggered campaign through
// the API and launches it.
func (c *client) journey(ctx context.Context) (int64, error) {
	var tpl, camp struct {
		ID int64 `json:"id"`
	}
	if _, err := c.call(ctx, http.MethodPost, "/api/v1/templates", map[string]any{
		"name": "welcome", "subject": "Welcome {{ .Contact.Name }}",
		"html": `<p>Hello {{ .Contact.Name }}, welcome.</p><p><a href="https://shop.example/start">Start</a></p><p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p>`,
	}, &tpl); err != nil {
		return 0, err
	}
	if _, err := c.call(ctx, http.MethodPost, "/api/v1/campaigns", map[string]any{
		"name": "Welcome (bench)", "channel": "email", "from": map[string]any{"name": "Shop", "email": "news@shop.example"},
		"steps": []map[string]any{{"key": "welcome", "template_id": tpl.ID}},
		"entry": map[string]any{"type": "event", "event": "signup"}, "reentry": "never",
	}, &camp); err != nil {
		return 0, err
	}
	if _, err := c.call(ctx, http.MethodPost, fmt.Sprintf("/api/v1/campaigns/%d/launch", camp.ID), nil, nil); err != nil {
		return 0, err
	}
	return camp.ID, nil
}

// loadResult is what posting the events saw.
type loadResult struct {
	start   time.Time
	elapsed time.Duration
	errors  int64
	// first is each contact's first event's API call time.
	first map[string]time.Time
	// repeats counts the events that repeated an earlier contact.
	repeats int
	// answers are the API calls' times to their answers.
	answers []time.Duration
}

// contactOf is the contact of event i: every 20th event repeats the
// contact of the event ten before it.
func contactOf(i int) string {
	if i%20 == 19 {
		i -= 10
	}
	return fmt.Sprintf("user%d@example.com", i)
}

// post sends total signup events at rate per second from c.clients
// goroutines; event i is due at start + i/rate.
func (c *client) post(ctx context.Context, rate, total int) (loadResult, error) {
	res := loadResult{first: make(map[string]time.Time, total)}
	var mu sync.Mutex
	var errCount atomic.Int64
	var firstErr atomic.Value
	work := make(chan int, total)
	var wg sync.WaitGroup
	for range c.clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				email := contactOf(i)
				at := time.Now()
				mu.Lock()
				if _, seen := res.first[email]; !seen {
					res.first[email] = at
				} else {
					res.repeats++
				}
				mu.Unlock()
				if _, err := c.call(ctx, http.MethodPost, "/api/v1/events", map[string]any{"email": email, "type": "signup"}, nil); err != nil {
					errCount.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
				}
				took := time.Since(at)
				mu.Lock()
				res.answers = append(res.answers, took)
				mu.Unlock()
			}
		}()
	}
	res.start = time.Now()
	interval := time.Second / time.Duration(rate)
	for i := range total {
		if d := time.Until(res.start.Add(time.Duration(i) * interval)); d > 0 {
			time.Sleep(d)
		}
		work <- i
	}
	close(work)
	wg.Wait()
	res.elapsed = time.Since(res.start)
	res.errors = errCount.Load()
	if e := firstErr.Load(); e != nil {
		fmt.Printf("first error: %s\n", e)
	}
	return res, ctx.Err()
}

// waitSent waits until n deliveries of the campaign are sent (at most 15
// minutes) and returns when.
func waitSent(ctx context.Context, pool *pgxpool.Pool, campaignID int64, n int) (time.Time, error) {
	deadline := time.Now().Add(15 * time.Minute)
	for {
		var sent int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM deliveries WHERE campaign_id = $1 AND status = 'sent'`, campaignID).Scan(&sent); err != nil {
			return time.Time{}, err
		}
		if sent >= n {
			return time.Now(), nil
		}
		if time.Now().After(deadline) {
			return time.Time{}, fmt.Errorf("%d of %d first steps sent after 15 minutes", sent, n)
		}
		// Each poll counts the campaign's deliveries in PostgreSQL, whose
		// CPU is measured: poll often enough for the "all sent" time, no
		// more.
		time.Sleep(250 * time.Millisecond)
	}
}

// report prints the first-send latencies and checks the ground truth.
func report(ctx context.Context, pool *pgxpool.Pool, campaignID int64, load loadResult, accepted map[string][]time.Time) error {
	var lat []time.Duration
	var failures []string
	for email, at := range load.first {
		got := accepted[email]
		if len(got) != 1 {
			failures = append(failures, fmt.Sprintf("%s got %d messages", email, len(got)))
			continue
		}
		lat = append(lat, got[0].Sub(at))
	}
	if len(accepted) != len(load.first) {
		failures = append(failures, fmt.Sprintf("%d recipients at the sink, %d contacts posted", len(accepted), len(load.first)))
	}
	var entries, contacts, deliveries int
	if err := pool.QueryRow(ctx, `SELECT count(*), count(DISTINCT contact_id),
			(SELECT count(*) FROM deliveries WHERE campaign_id = $1)
		FROM campaign_entries WHERE campaign_id = $1`, campaignID).Scan(&entries, &contacts, &deliveries); err != nil {
		return err
	}
	if entries != len(load.first) || contacts != entries || deliveries != entries {
		failures = append(failures, fmt.Sprintf("entries %d (contacts %d), deliveries %d, want %d each", entries, contacts, deliveries, len(load.first)))
	}
	pct := percentiles(lat)
	fmt.Printf("entries %d (one per contact; %d repeated events refused by reentry never)\n", entries, load.repeats)
	fmt.Printf("event API call → first step accepted by SMTP: p50 %s, p95 %s, p99 %s, max %s\n",
		pct(0.50), pct(0.95), pct(0.99), pct(1))
	if err := printSplit(ctx, pool, campaignID, load, accepted); err != nil {
		return err
	}
	if err := printLinks(ctx, pool, campaignID, accepted); err != nil {
		return err
	}
	fmt.Printf("load average at the end: %s\n", benchdb.LoadAvg())
	if len(failures) > 0 {
		if len(failures) > 5 {
			failures = append(failures[:5], fmt.Sprintf("… %d more", len(failures)-5))
		}
		return fmt.Errorf("ground truth failed: %s", strings.Join(failures, "; "))
	}
	fmt.Println("ground truth: every contact has exactly one entry, one delivery and one message")
	return nil
}

func numCPU() int { return runtime.NumCPU() }
