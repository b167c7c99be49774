package main

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// sendMetrics are the server's send-path counters (peykar_send_* on
// /metrics); a binary without them reads as zeros.
type sendMetrics map[string]float64

// scrapeSend reads the peykar_send_* counters of the server at base.
func scrapeSend(ctx context.Context, base string) (sendMetrics, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	defer resp.Body.Close()
	out := sendMetrics{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), " ")
		if !ok || !strings.HasPrefix(name, "peykar_send_") {
			continue
		}
		if v, err := strconv.ParseFloat(value, 64); err == nil {
			out[name] = v
		}
	}
	return out, sc.Err()
}

// printSendMetrics prints what the send path did between two scrapes over
// wall: the slices that waited for room under the uncommitted bound and
// the outcome group commits.
func printSendMetrics(before, after sendMetrics, wall time.Duration) {
	d := func(name string) float64 { return after[name] - before[name] }
	waits, wait := d("peykar_send_reserve_waits_total"), d("peykar_send_reserve_wait_seconds_total")
	flushes, flushTime, flushed := d("peykar_send_outcome_flushes_total"), d("peykar_send_outcome_flush_seconds_total"),
		d("peykar_send_outcomes_flushed_total")
	if flushes == 0 {
		fmt.Println("  send path: no peykar_send_* metrics (an older binary)")
		return
	}
	mean := func(total, n float64) time.Duration {
		if n == 0 {
			return 0
		}
		return time.Duration(total / n * float64(time.Second)).Round(100 * time.Microsecond)
	}
	fmt.Printf("  send path: %.0f slices waited for room under the uncommitted bound, %s in all (mean %s); "+
		"%.0f outcome flushes of %.1f outcomes, mean %s, busy %.0f%% of the wall time\n",
		waits, time.Duration(wait*float64(time.Second)).Round(time.Millisecond), mean(wait, waits),
		flushes, flushed/flushes, mean(flushTime, flushes), 100*flushTime/wall.Seconds())
}
