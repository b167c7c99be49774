package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"time"
)

// get fetches url with client c (a bearer token when token is set) and
// returns the status and body.
func get(ctx context.Context, c *http.Client, url, token string) (int, string, error) {
	return do(ctx, c, http.MethodGet, url, token, nil)
}

// do sends one request, JSON-encoding body when it is not nil.
func do(ctx context.Context, c *http.Client, method, url, token string, body any) (int, string, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, "", err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return 0, "", err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, "", fmt.Errorf("%s %s: %w", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, "", fmt.Errorf("%s %s: %w", method, url, err)
	}
	return resp.StatusCode, string(b), nil
}

// result is one timed operation over its runs.
type result struct {
	name        string
	median, p95 time.Duration
	runs        int
	note        string
}

// timeRuns calls f runs times after one warm-up call (unless cold, when
// every call is timed, each after prepare) and returns the median and p95.
// f returns the last body, kept for the caller's ground-truth check.
func timeRuns(runs int, name string, prepare func() error, f func() (string, error)) (result, string, error) {
	var last string
	var err error
	if prepare == nil {
		if last, err = f(); err != nil { // warm-up
			return result{}, "", fmt.Errorf("%s: %w", name, err)
		}
	}
	times := make([]time.Duration, 0, runs)
	for range runs {
		if prepare != nil {
			if err := prepare(); err != nil {
				return result{}, "", fmt.Errorf("%s: %w", name, err)
			}
		}
		t0 := time.Now()
		last, err = f()
		if err != nil {
			return result{}, "", fmt.Errorf("%s: %w", name, err)
		}
		times = append(times, time.Since(t0))
	}
	slices.Sort(times)
	p95 := times[min(len(times)-1, (len(times)*95+99)/100-1)]
	return result{name: name, median: times[len(times)/2], p95: p95, runs: runs}, last, nil
}

// ok200 wraps a request so that any status but 200 is an error.
func ok200(ctx context.Context, c *http.Client, method, url, token string, body any) func() (string, error) {
	return func() (string, error) {
		code, b, err := do(ctx, c, method, url, token, body)
		if err != nil {
			return "", err
		}
		if code != http.StatusOK {
			return "", fmt.Errorf("%s %s: status %d: %.300s", method, url, code, b)
		}
		return b, nil
	}
}

func ms(d time.Duration) string {
	return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000)
}
