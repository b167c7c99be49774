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
)

// clickResult is what a load generator measured.
type clickResult struct {
	found, other       int64 // 302 answers; other answers and errors
	elapsed            time.Duration
	p50, p90, p99, max time.Duration
	cpu                benchdb.CPUTime        // this process and PostgreSQL while clicking
	appCPU             time.Duration          // the server's CPU while clicking (peykar or the ceiling server)
	genCPU             time.Duration          // the load generator's CPU while clicking
	walBytes           int64                  // WAL PostgreSQL wrote while clicking (-1: not measured)
	walFrom, walTo     string                 // the clicking window's WAL positions ("" when unknown)
	probeCPU           time.Duration          // the bench's own probes' PostgreSQL CPU, left out of cpu.DB
	writesBefore       map[string]tableWrites // -writes with -backlog: the tables' counters before the fold
}

// chargeProbes takes the bench's own probes' PostgreSQL CPU (probes.cpu's
// difference over the window) out of the cluster's, keeping it apart.
// The cluster's figure comes from /proc/PID/stat in clock ticks and the
// probes' from schedstat in nanoseconds, so the two are subtracted at the
// ticks' resolution (10 ms per process per sample).
func (r *clickResult) chargeProbes(d time.Duration) {
	r.probeCPU = d
	r.cpu.DB -= d
}

func (r clickResult) rate() float64 { return float64(r.found) / max(r.elapsed.Seconds(), 1e-9) }

// clickGo clicks urls from clients goroutines in this process for d; the
// process CPU it samples is the generator's.
func clickGo(addr string, urls []string, clients int, d time.Duration, pgData string) clickResult {
	var next, found, other atomic.Int64
	lat := make([][]time.Duration, clients)
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	start := time.Now()
	cpu0 := benchdb.SampleCPU(pgData)
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

// writePaths writes the click paths of urls for wrk, one file per thread
// (thread k clicks urls k, k+threads, …) named dir/paths.k, and returns
// dir/paths.
func writePaths(dir string, urls []string, threads int) (string, error) {
	pathFile := filepath.Join(dir, "paths")
	for k := range threads {
		var b strings.Builder
		for i := k; i < len(urls); i += threads {
			p, err := url.Parse(urls[i])
			if err != nil {
				return "", err
			}
			b.WriteString(p.RequestURI())
			b.WriteByte('\n')
		}
		if err := os.WriteFile(fmt.Sprintf("%s.%d", pathFile, k), []byte(b.String()), 0o600); err != nil {
			return "", err
		}
	}
	return pathFile, nil
}

// clickWrk has wrk click the paths in pathFile (writePaths) on base with
// conns connections for d. progress counts what the server has done so far
// (events stored, 302s answered): the window's CPU samples (sample is
// called twice) run from its first change to the moment it has not changed
// for 0.3 s after the window.
func clickWrk(ctx context.Context, base, pathFile string, lines, threads, conns int, d time.Duration, progress func() int64, sample func()) (clickResult, error) {
	start := progress()
	var last int64
	var lastChange time.Time
	started := func() bool { return progress() != start }
	idle := func() bool {
		n := progress()
		if n != last || lastChange.IsZero() {
			last, lastChange = n, time.Now()
			return false
		}
		return time.Since(lastChange) > 300*time.Millisecond
	}
	w, err := runWrk(ctx, base, pathFile, lines, threads, conns, d, started, idle, sample)
	if err != nil {
		return clickResult{}, err
	}
	return clickResult{found: w.found, other: w.other + w.errors, elapsed: w.elapsed,
		p50: w.p50, p90: w.p90, p99: w.p99, max: w.max, genCPU: w.cpu}, nil
}
