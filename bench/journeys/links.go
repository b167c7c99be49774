package main

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// printLinks splits entry → SMTP into its links, from the timestamps the
// server leaves behind (all clocks are this machine's): the entry
// (entered_at, the drain's clock) to the send job's first fetch (River's
// attempted_at: the drain's commit and the queue's wait), the fetch to the
// delivery's claim (sending_at: the earlier chunks of the job), the claim
// to the sink's acceptance (render, the wait for room under the
// uncommitted bound, the slices sent before it on the job's connection),
// the acceptance to the outcome's record (sent_at: the group commit's
// flush) and the record to the job's end (finalized_at: the job waits
// for every outcome of its batch). It also prints how many send jobs
// carried the entries and how large they were.
func printLinks(ctx context.Context, pool *pgxpool.Pool, campaignID int64, accepted map[string][]time.Time) error {
	rows, err := pool.Query(ctx, `
		WITH jd AS (
			SELECT j.id, j.attempted_at, j.finalized_at, cardinality(ids.ids) AS size, u.delivery_id
			FROM river_job j
			CROSS JOIN LATERAL (SELECT CASE WHEN j.args ? 'ids' THEN unpack_delivery_ids(j.args->>'ids')
				ELSE ARRAY(SELECT jsonb_array_elements_text(j.args->'delivery_ids')::bigint) END AS ids) ids
			CROSS JOIN LATERAL unnest(ids.ids) AS u(delivery_id)
			WHERE j.kind IN ('send', 'send_packed') AND (j.args->>'campaign_id')::bigint = $1)
		SELECT c.email, e.entered_at, jd.attempted_at, d.sending_at, d.sent_at, jd.finalized_at, jd.id, jd.size
		FROM campaign_entries e
		JOIN contacts c ON c.id = e.contact_id
		JOIN deliveries d ON d.campaign_id = e.campaign_id AND d.round = e.id
		JOIN jd ON jd.delivery_id = d.id
		WHERE e.campaign_id = $1 AND jd.attempted_at IS NOT NULL AND d.sending_at IS NOT NULL
			AND d.sent_at IS NOT NULL AND jd.finalized_at IS NOT NULL`, campaignID)
	if err != nil {
		return fmt.Errorf("links: %w", err)
	}
	defer rows.Close()
	var fetch, claim, smtp, record, end []time.Duration
	jobs := map[int64]int{}
	for rows.Next() {
		var email string
		var entered, attempted, sending, sent, finalized time.Time
		var jobID int64
		var size int
		if err := rows.Scan(&email, &entered, &attempted, &sending, &sent, &finalized, &jobID, &size); err != nil {
			return fmt.Errorf("links: %w", err)
		}
		jobs[jobID] = size
		got := accepted[email]
		if len(got) != 1 {
			continue
		}
		fetch = append(fetch, attempted.Sub(entered))
		claim = append(claim, sending.Sub(attempted))
		smtp = append(smtp, got[0].Sub(sending))
		record = append(record, sent.Sub(got[0]))
		end = append(end, finalized.Sub(sent))
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("links: %w", err)
	}
	sizes := make([]int, 0, len(jobs))
	for _, n := range jobs {
		sizes = append(sizes, n)
	}
	slices.Sort(sizes)
	fmt.Printf("  entry → SMTP by link (p50 / p99): entry → job fetched %s; fetched → claimed %s; claimed → SMTP accepted %s; accepted → outcome recorded %s; recorded → job ended %s\n",
		links(fetch), links(claim), links(smtp), links(record), links(end))
	fmt.Printf("  send jobs: %d, deliveries per job p50 %d, max %d\n", len(jobs), at(sizes, len(sizes)/2), at(sizes, len(sizes)-1))
	return nil
}

// links formats a link's p50 and p99.
func links(d []time.Duration) string {
	p := percentiles(d)
	return fmt.Sprintf("%s / %s", p(0.5), p(0.99))
}

// at is s[i], or 0 when s is empty.
func at(s []int, i int) int {
	if i < 0 || i >= len(s) {
		return 0
	}
	return s[i]
}
