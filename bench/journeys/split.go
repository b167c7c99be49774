package main

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// percentiles sorts d and returns its p-th percentile, rounded to the
// millisecond.
func percentiles(d []time.Duration) func(p float64) time.Duration {
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	return func(p float64) time.Duration {
		if len(d) == 0 {
			return 0
		}
		return d[min(len(d)-1, int(p*float64(len(d))))].Round(time.Millisecond)
	}
}

// printSplit prints where the latency goes: the API's answer, the call to
// the contact's entry (the inbox drain; entered_at is the server's clock
// on this machine) and the entry to the sink's acceptance.
func printSplit(ctx context.Context, pool *pgxpool.Pool, campaignID int64, load loadResult, accepted map[string][]time.Time) error {
	rows, err := pool.Query(ctx, `SELECT c.email, e.entered_at FROM campaign_entries e JOIN contacts c ON c.id = e.contact_id
		WHERE e.campaign_id = $1`, campaignID)
	if err != nil {
		return err
	}
	defer rows.Close()
	var toEntry, toSend []time.Duration
	for rows.Next() {
		var email string
		var at time.Time
		if err := rows.Scan(&email, &at); err != nil {
			return err
		}
		if call, ok := load.first[email]; ok {
			toEntry = append(toEntry, at.Sub(call))
		}
		if got := accepted[email]; len(got) == 1 {
			toSend = append(toSend, got[0].Sub(at))
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	api, entry, send := percentiles(load.answers), percentiles(toEntry), percentiles(toSend)
	fmt.Printf("  API answer: p50 %s, p99 %s; call → entry: p50 %s, p99 %s; entry → SMTP: p50 %s, p99 %s\n",
		api(0.5), api(0.99), entry(0.5), entry(0.99), send(0.5), send(0.99))
	return nil
}
