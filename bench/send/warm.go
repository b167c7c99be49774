package main

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/peykar/peykar/bench/internal/benchserve"
	"github.com/peykar/peykar/bench/internal/benchsink"
)

// warmCity marks the warm-up's contacts (attributes.city), which the
// warm-up's segment selects.
const warmCity = "Warm"

// seedWarm adds n warm-up contacts, before the measured ones.
func seedWarm(ctx context.Context, pool *pgxpool.Pool, n int) error {
	if n <= 0 {
		return nil
	}
	t0 := time.Now()
	if _, err := pool.Exec(ctx, `INSERT INTO contacts (email, name, attributes)
		SELECT 'warm' || i || '@example.com', 'Warm ' || i, jsonb_build_object('city', $2::text)
		FROM generate_series(1, $1) i`, n, warmCity); err != nil {
		return fmt.Errorf("seed the warm-up's contacts: %w", err)
	}
	if _, err := pool.Exec(ctx, `VACUUM ANALYZE contacts`); err != nil {
		return err
	}
	fmt.Printf("seeded %d warm-up contacts in %s\n", n, time.Since(t0).Round(time.Millisecond))
	return nil
}

// createWarm creates the warm-up's campaign (0 when n is 0).
func createWarm(ctx context.Context, srv *benchserve.Peykar, n int) (int64, error) {
	if n <= 0 {
		return 0, nil
	}
	var tpl, seg, c struct {
		ID int64 `json:"id"`
	}
	if err := srv.Call(ctx, http.MethodPost, "/templates", map[string]any{"name": "warm-up", "subject": benchSubject, "html": benchHTML}, &tpl); err != nil {
		return 0, err
	}
	if err := srv.Call(ctx, http.MethodPost, "/segments", map[string]any{"name": "warm-up", "rule": fmt.Sprintf("contact.attributes.city == %q", warmCity)}, &seg); err != nil {
		return 0, err
	}
	if err := srv.Call(ctx, http.MethodPost, "/campaigns", map[string]any{"name": "warm-up", "channel": "email", "segment_id": seg.ID,
		"from": map[string]any{"name": "Shop", "email": "news@shop.example"}, "steps": []map[string]any{{"key": "main", "template_id": tpl.ID}}}, &c); err != nil {
		return 0, err
	}
	return c.ID, nil
}

// warmUp sends campaign id to the n warm-up contacts through srv, the
// peykar serve that will send the measured campaign, so its pooled
// connections are PostgreSQL backends that have already worked when the
// measurement starts. It waits until the campaign is finished and its
// outcomes folded, checks that the sink got each warm-up recipient once,
// then erases the warm-up's contacts (status erased: the measured
// segment's walk leaves them out) and vacuums what the warm-up wrote, so
// the measured window starts with nothing of the warm-up left to do.
func warmUp(ctx context.Context, srv *benchserve.Peykar, pool *pgxpool.Pool, sink *benchsink.Sink, id int64, n int) error {
	if n <= 0 {
		return nil
	}
	if err := sink.Mark(); err != nil {
		return err
	}
	start := time.Now()
	if err := srv.Call(ctx, http.MethodPost, fmt.Sprintf("/campaigns/%d/launch", id), nil, nil); err != nil {
		return err
	}
	deadline := start.Add(5 * time.Minute)
	for {
		var got struct {
			Status string `json:"status"`
		}
		if err := srv.Call(ctx, http.MethodGet, fmt.Sprintf("/campaigns/%d", id), nil, &got); err != nil {
			return err
		}
		if got.Status == "finished" {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("warm-up campaign still %s after %s", got.Status, time.Since(start).Round(time.Second))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	elapsed := time.Since(start)
	if _, err := waitSettled(ctx, pool); err != nil {
		return err
	}
	st, err := sink.Stats()
	if err != nil {
		return err
	}
	if st.Messages != int64(n) || st.Distinct != int64(n) || st.Repeated != 0 {
		return fmt.Errorf("warm-up FAILED: sink accepted %d messages for %d distinct recipients (%d repeated); want %d once each",
			st.Messages, st.Distinct, st.Repeated, n)
	}
	if err := eraseWarm(ctx, pool, n); err != nil {
		return err
	}
	if _, err := pool.Exec(ctx, `VACUUM ANALYZE contacts, contact_stats, deliveries, campaign_people`); err != nil {
		return fmt.Errorf("vacuum after the warm-up: %w", err)
	}
	if err := waitWarmReported(ctx, pool, n); err != nil {
		return err
	}
	fmt.Printf("warm-up (not measured): %d msgs in %s → %.0f msgs/s, each once; then its contacts erased and its tables vacuumed, %s after its launch\n",
		n, elapsed.Round(time.Millisecond), float64(n)/elapsed.Seconds(), time.Since(start).Round(time.Millisecond))
	return nil
}

// eraseWarm sets the warm-up's contacts erased, on one connection whose
// table statistics are flushed before it returns (PostgreSQL 15's
// pg_stat_force_next_flush: a backend otherwise reports them up to
// seconds later, inside the measured window's row counts).
func eraseWarm(ctx context.Context, pool *pgxpool.Pool, n int) error {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	tag, err := conn.Exec(ctx, `UPDATE contacts SET status = 'erased' WHERE attributes->>'city' = $1`, warmCity)
	if err != nil {
		return fmt.Errorf("erase the warm-up's contacts: %w", err)
	}
	if tag.RowsAffected() != int64(n) {
		return fmt.Errorf("erase the warm-up's contacts: %d rows, want %d", tag.RowsAffected(), n)
	}
	// The flush happens as the backend goes idle after the call, before
	// it answers: the next statement's answer comes after it.
	if _, err := conn.Exec(ctx, `SELECT pg_stat_force_next_flush()`); err != nil {
		return fmt.Errorf("flush the erasure's statistics: %w", err)
	}
	_, err = conn.Exec(ctx, `SELECT 1`)
	return err
}

// waitWarmReported waits until peykar's backends have reported the
// warm-up's row writes to the statistics (each backend does so within
// seconds of going idle), so that the measured window's row counts
// (printTableStats) are the measured campaign's: every warm-up delivery
// inserted and updated at least twice (claim and outcome), each warm-up
// contact's contact_stats and campaign_people rows inserted.
func waitWarmReported(ctx context.Context, pool *pgxpool.Pool, n int) error {
	start := time.Now()
	deadline := start.Add(30 * time.Second)
	for {
		var delIns, delUpd, statIns, peopleIns int64
		if err := pool.QueryRow(ctx, `SELECT
			coalesce((SELECT n_tup_ins FROM pg_stat_user_tables WHERE relname = 'deliveries'), 0),
			coalesce((SELECT n_tup_upd FROM pg_stat_user_tables WHERE relname = 'deliveries'), 0),
			coalesce((SELECT n_tup_ins FROM pg_stat_user_tables WHERE relname = 'contact_stats'), 0),
			coalesce((SELECT n_tup_ins FROM pg_stat_user_tables WHERE relname = 'campaign_people'), 0)`).
			Scan(&delIns, &delUpd, &statIns, &peopleIns); err != nil {
			return fmt.Errorf("the warm-up's statistics: %w", err)
		}
		w := int64(n)
		if delIns >= w && delUpd >= 2*w && statIns >= w && peopleIns >= w {
			return nil
		}
		if time.Now().After(deadline) {
			fmt.Printf("warm-up: its row writes not all reported after %s (deliveries inserted %d, updated %d; contact_stats %d; campaign_people %d): the row counts below may include some\n",
				time.Since(start).Round(time.Second), delIns, delUpd, statIns, peopleIns)
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}
