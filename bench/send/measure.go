package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// tableStats are the deliveries and contacts tables' write counters and the
// cluster's checkpoints, read before and after the send: how many row
// versions a message costs and how many of them were HOT (no index entry).
type tableStats struct {
	delUpd, delHot, conUpd, conHot int64
	// contact_stats' (migration 048: the contacts' sent counts; zero
	// for a binary before it)
	statIns, statUpd, statHot int64
	checkpoints               int64
	// With BENCH_PG_STATEMENTS=1: rows inserted into deliveries,
	// campaign_people and river_job, and the database's commits.
	delIns, peopleIns, jobIns, commits int64
}

func readTableStats(ctx context.Context, pool *pgxpool.Pool) (tableStats, error) {
	var s tableStats
	err := pool.QueryRow(ctx, `SELECT
		(SELECT n_tup_upd FROM pg_stat_user_tables WHERE relname = 'deliveries'),
		(SELECT n_tup_hot_upd FROM pg_stat_user_tables WHERE relname = 'deliveries'),
		(SELECT n_tup_upd FROM pg_stat_user_tables WHERE relname = 'contacts'),
		(SELECT n_tup_hot_upd FROM pg_stat_user_tables WHERE relname = 'contacts'),
		(SELECT checkpoints_timed + checkpoints_req FROM pg_stat_bgwriter),
		coalesce((SELECT n_tup_ins FROM pg_stat_user_tables WHERE relname = 'contact_stats'), 0),
		coalesce((SELECT n_tup_upd FROM pg_stat_user_tables WHERE relname = 'contact_stats'), 0),
		coalesce((SELECT n_tup_hot_upd FROM pg_stat_user_tables WHERE relname = 'contact_stats'), 0)`).
		Scan(&s.delUpd, &s.delHot, &s.conUpd, &s.conHot, &s.checkpoints, &s.statIns, &s.statUpd, &s.statHot)
	if err != nil || os.Getenv("BENCH_PG_STATEMENTS") != "1" {
		return s, err
	}
	err = pool.QueryRow(ctx, `SELECT
		(SELECT n_tup_ins FROM pg_stat_user_tables WHERE relname = 'deliveries'),
		(SELECT n_tup_ins FROM pg_stat_user_tables WHERE relname = 'campaign_people'),
		(SELECT n_tup_ins FROM pg_stat_user_tables WHERE relname = 'river_job'),
		(SELECT xact_commit FROM pg_stat_database WHERE datname = current_database())`).
		Scan(&s.delIns, &s.peopleIns, &s.jobIns, &s.commits)
	return s, err
}

// printTableStats prints the row versions per message the send wrote.
func printTableStats(w io.Writer, before, after tableStats, msgs int64) {
	per := float64(max(msgs, 1))
	fmt.Fprintf(w, "row updates per message: deliveries %.2f (HOT %.0f%%), contacts %.2f (HOT %.0f%%); checkpoints during the send: %d\n",
		float64(after.delUpd-before.delUpd)/per, pct(after.delHot-before.delHot, after.delUpd-before.delUpd),
		float64(after.conUpd-before.conUpd)/per, pct(after.conHot-before.conHot, after.conUpd-before.conUpd),
		after.checkpoints-before.checkpoints)
	if ins, upd := after.statIns-before.statIns, after.statUpd-before.statUpd; ins+upd > 0 {
		fmt.Fprintf(w, "contact_stats per message: rows inserted %.2f, updated %.2f (HOT %.0f%%)\n",
			float64(ins)/per, float64(upd)/per, pct(after.statHot-before.statHot, upd))
	}
	if os.Getenv("BENCH_PG_STATEMENTS") == "1" {
		fmt.Fprintf(w, "rows inserted per message: deliveries %.2f, campaign_people %.2f, river_job %.4f; commits per message %.3f (every backend, reads included; as reported so far: a backend reports within seconds of going idle, so lower bounds)\n",
			float64(after.delIns-before.delIns)/per, float64(after.peopleIns-before.peopleIns)/per,
			float64(after.jobIns-before.jobIns)/per, float64(after.commits-before.commits)/per)
	}
}

func pct(a, b int64) float64 {
	if b == 0 {
		return 0
	}
	return 100 * float64(a) / float64(b)
}

// profileWindow is how long the CPU profile samples: the middle of the
// send, estimated from the ceiling (the send takes longer than that).
func profileWindow(n int, ceiling float64) int {
	if ceiling <= 0 {
		return 10
	}
	return max(2, min(30, int(time.Duration(float64(n)/ceiling*float64(time.Second)).Seconds()*0.6)))
}

// waitStartupJobs waits until the periodic jobs peykar serve runs when it
// starts (the analytics recompute over every contact, the outbox prune)
// have finished, so the send's CPU and statements are the send's own: in a
// deployment they run hourly whatever is being sent. It prints how long it
// waited.
func waitStartupJobs(ctx context.Context, pool *pgxpool.Pool) error {
	start := time.Now()
	deadline := start.Add(5 * time.Minute)
	for {
		// The recompute is inserted once River elects its leader: wait for
		// it to appear (up to 30 s), then for every such job to end.
		var busy int
		var seen bool
		if err := pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE state IN ('available', 'running', 'retryable')),
			count(*) FILTER (WHERE kind = 'analytics_recompute') > 0
			FROM river_job WHERE kind NOT IN ('send', 'send_packed', 'launch')`).Scan(&busy, &seen); err != nil {
			return err
		}
		if busy == 0 && (seen || time.Since(start) > 30*time.Second) {
			fmt.Printf("start-up jobs (analytics recompute …) done in %s, before the launch\n", time.Since(start).Round(time.Millisecond))
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("start-up jobs still running after %s", time.Since(start).Round(time.Second))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// waitSettled waits until no send outcome waits to be folded (a binary
// without migration 045 has no log: settled at once) and returns how long
// that took.
func waitSettled(ctx context.Context, pool *pgxpool.Pool) (time.Duration, error) {
	began := time.Now()
	var exists bool
	if err := pool.QueryRow(ctx, `SELECT to_regclass('send_outcome_log') IS NOT NULL`).Scan(&exists); err != nil {
		return 0, fmt.Errorf("wait for the send fold: %w", err)
	}
	for exists {
		var pending bool
		if err := pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM send_outcome_log)`).Scan(&pending); err != nil {
			return 0, fmt.Errorf("wait for the send fold: %w", err)
		}
		if !pending {
			break
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
	return time.Since(began), nil
}

// checkDerived checks what the send derives against the raw rows, once
// settled: the contacts' sent counts rose by the deliveries sent from
// before (the sum before the launch: 0 in a fresh database, the warm-up's
// with -warm; nothing else sends meanwhile), and the campaign's people
// sent (rows and counter) are its distinct recipients.
func checkDerived(ctx context.Context, pool *pgxpool.Pool, campaignID, sent, before int64) error {
	total, err := contactsSent(ctx, pool)
	if err != nil {
		return fmt.Errorf("derived state: %w", err)
	}
	var people, peopleRows, recipients int64
	if err := pool.QueryRow(ctx, `SELECT
		(SELECT coalesce(sum(count), 0) FROM rollup_totals WHERE campaign_id = $1 AND step = '' AND metric = 'people_sent')::bigint,
		(SELECT count(*) FROM campaign_people WHERE campaign_id = $1 AND sent),
		(SELECT count(DISTINCT contact_id) FROM deliveries WHERE campaign_id = $1 AND status = 'sent')`, campaignID).
		Scan(&people, &peopleRows, &recipients); err != nil {
		return fmt.Errorf("derived state: %w", err)
	}
	if added := total - before; added != sent || people != recipients || peopleRows != recipients {
		return fmt.Errorf("derived state FAILED: contacts' sent +%d, people_sent %d, campaign_people sent %d; %d deliveries sent to %d recipients",
			added, people, peopleRows, sent, recipients)
	}
	fmt.Printf("derived state: contacts' sent %d, people_sent %d = raw rows\n", total-before, people)
	return nil
}

// contactsSent is the sum of the contacts' sent counts: contact_stats'
// since migration 048, contacts' before (the bench measures binaries of
// either schema).
func contactsSent(ctx context.Context, pool *pgxpool.Pool) (int64, error) {
	var narrow bool
	if err := pool.QueryRow(ctx, `SELECT to_regclass('contact_stats') IS NOT NULL`).Scan(&narrow); err != nil {
		return 0, fmt.Errorf("contacts' sent: %w", err)
	}
	statsTable := "contacts"
	if narrow {
		statsTable = "contact_stats"
	}
	var n int64
	if err := pool.QueryRow(ctx, `SELECT coalesce(sum(sent), 0)::bigint FROM `+statsTable).Scan(&n); err != nil {
		return 0, fmt.Errorf("contacts' sent: %w", err)
	}
	return n, nil
}
