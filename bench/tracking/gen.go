package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/peykar/peykar/bench/internal/benchdb"
	"github.com/peykar/peykar/tracking"
)

// clickResult is what a load generator measured.
type clickResult struct {
	found, other       int64 // 302 answers; other answers and errors
	elapsed            time.Duration
	p50, p90, p99, max time.Duration
	cpu                benchdb.CPUTime // this process and PostgreSQL while clicking
	genCPU             time.Duration   // an external generator's CPU while clicking
}

// clickGo clicks urls from clients goroutines in this process for d.
func clickGo(addr string, urls []string, clients int, d time.Duration, pgData string) clickResult {
	var next, found, other atomic.Int64
	lat := make([][]time.Duration, clients)
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	start := time.Now()
	cpu0 := benchdb.SampleCPU(pgData)
	startProfile()
	for c := range clients {
		wg.Go(func() {
			client := &rawClient{addr: addr}
			defer client.close()
			for time.Now().Before(deadline) {
				u := urls[int(next.Add(1)-1)%len(urls)]
				t0 := time.Now()
				code, _, err := client.get(u)
				if err != nil {
					other.Add(1)
					continue
				}
				lat[c] = append(lat[c], time.Since(t0))
				if code == http.StatusFound {
					found.Add(1)
				} else {
					other.Add(1)
				}
			}
		})
	}
	wg.Wait()
	res := clickResult{found: found.Load(), other: other.Load(), elapsed: time.Since(start)}
	res.cpu = benchdb.SampleCPU(pgData).Sub(cpu0)
	all := slices.Concat(lat...)
	slices.Sort(all)
	pct := func(p float64) time.Duration {
		if len(all) == 0 {
			return 0
		}
		return all[min(len(all)-1, int(float64(len(all))*p))]
	}
	res.p50, res.p90, res.p99, res.max = pct(0.50), pct(0.90), pct(0.99), pct(1)
	return res
}

// clickWrk writes the click paths to a file and has wrk click them with
// conns connections for d. CPU is sampled from the first stored event to
// the moment the writer has been idle for a while after the window.
func clickWrk(ctx context.Context, base string, urls []string, threads, conns int, d time.Duration, pgData string, svc *tracking.Service) (clickResult, error) {
	dir, err := os.MkdirTemp("", "pkwrk")
	if err != nil {
		return clickResult{}, err
	}
	defer os.RemoveAll(dir)
	// Thread k clicks urls k, k+threads, … (its own file).
	pathFile := filepath.Join(dir, "paths")
	for k := range threads {
		var b strings.Builder
		for i := k; i < len(urls); i += threads {
			p, err := url.Parse(urls[i])
			if err != nil {
				return clickResult{}, err
			}
			b.WriteString(p.RequestURI())
			b.WriteByte('\n')
		}
		if err := os.WriteFile(fmt.Sprintf("%s.%d", pathFile, k), []byte(b.String()), 0o600); err != nil {
			return clickResult{}, err
		}
	}
	var samples []benchdb.CPUTime
	var last int64
	var lastChange time.Time
	started := func() bool { return svc.Stats().Events > 0 }
	idle := func() bool {
		n := svc.Stats().Events
		if n != last || lastChange.IsZero() {
			last, lastChange = n, time.Now()
			return false
		}
		return time.Since(lastChange) > 300*time.Millisecond
	}
	sample := func() {
		samples = append(samples, benchdb.SampleCPU(pgData))
		if len(samples) == 1 {
			startProfile()
		}
	}
	w, err := runWrk(ctx, base, pathFile, len(urls), threads, conns, d, started, idle, sample)
	if err != nil {
		return clickResult{}, err
	}
	res := clickResult{found: w.found, other: w.other + w.errors, elapsed: w.elapsed,
		p50: w.p50, p90: w.p90, p99: w.p99, max: w.max, genCPU: w.cpu}
	res.cpu = samples[1].Sub(samples[0])
	// The idle wait after the window is in the CPU samples but is idle.
	return res, nil
}
