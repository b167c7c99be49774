package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/peykar/peykar/bench/internal/benchdb"
)

// walStats is pg_stat_wal's counters: records, full-page images, bytes,
// write() calls, syncs, and writes forced by full WAL buffers.
type walStats struct{ records, fpi, bytes, writes, syncs, full int64 }

func readWALStats(ctx context.Context, pool *pgxpool.Pool) (walStats, error) {
	var w walStats
	err := pool.QueryRow(ctx, `SELECT wal_records, wal_fpi, wal_bytes::bigint, wal_write, wal_sync, wal_buffers_full FROM pg_stat_wal`).
		Scan(&w.records, &w.fpi, &w.bytes, &w.writes, &w.syncs, &w.full)
	if err != nil {
		return w, fmt.Errorf("pg_stat_wal: %w", err)
	}
	return w, nil
}

// vacuumDebt is each table's dead row versions plus rows inserted since
// its last vacuum: the work autovacuum has left to do on it.
type vacuumDebt map[string][2]int64

func readVacuumDebt(ctx context.Context, pool *pgxpool.Pool) (vacuumDebt, error) {
	rows, err := pool.Query(ctx, `SELECT relname, n_dead_tup, n_ins_since_vacuum FROM pg_stat_user_tables`)
	if err != nil {
		return nil, fmt.Errorf("vacuum debt: %w", err)
	}
	d := vacuumDebt{}
	for rows.Next() {
		var rel string
		var dead, ins int64
		if err := rows.Scan(&rel, &dead, &ins); err != nil {
			return nil, fmt.Errorf("vacuum debt: %w", err)
		}
		d[rel] = [2]int64{dead, ins}
	}
	return d, rows.Err()
}

// vacuumLeft says how much vacuum work the send leaves for after its
// window, and what it costs: the dead row versions and the rows inserted
// since vacuum that the window added to each table (autovacuum comes for
// them later: in a deployment while the next campaign sends), then a
// VACUUM ANALYZE of those tables doing that work now, its CPU (and any
// autovacuum worker's meanwhile) charged per 1,000 messages by split. An
// honest per-message cost counts both phases. Tables the window did not
// write (the seeded contacts, the start-up jobs' scores) are left out.
func vacuumLeft(ctx context.Context, pool *pgxpool.Pool, split *benchdb.ProcSplit, before vacuumDebt, wal0 walStats, msgs int64) error {
	if err := waitStatsStill(ctx, pool); err != nil {
		return err
	}
	// pg_stat_wal once the backends have reported (so after the window
	// by the seconds waited: a little of peykar's idle polling is in it).
	wal1, err := readWALStats(ctx, pool)
	if err != nil {
		return err
	}
	per := float64(max(msgs, 1))
	fmt.Printf("pg_stat_wal, launch until reported: per 1,000 messages %.0f records, %.1f full-page images, %.0f write() calls, %.0f syncs, %.0f writes for full WAL buffers\n",
		1000*float64(wal1.records-wal0.records)/per, 1000*float64(wal1.fpi-wal0.fpi)/per, 1000*float64(wal1.writes-wal0.writes)/per,
		1000*float64(wal1.syncs-wal0.syncs)/per, 1000*float64(wal1.full-wal0.full)/per)
	after, err := readVacuumDebt(ctx, pool)
	if err != nil {
		return err
	}
	var tables, parts []string
	var dead, ins int64
	for rel, a := range after {
		b := before[rel]
		if a[0] <= b[0] && a[1] <= b[1] {
			continue
		}
		tables = append(tables, pgx.Identifier{rel}.Sanitize())
		dead, ins = dead+max(a[0]-b[0], 0), ins+max(a[1]-b[1], 0)
		parts = append(parts, fmt.Sprintf("%s +%d/+%d", rel, a[0]-b[0], a[1]-b[1]))
	}
	fmt.Printf("left for vacuum by the window: %.2f dead row versions and %.2f rows inserted since vacuum per message (dead/inserted by table: %s)\n",
		float64(dead)/per, float64(ins)/per, strings.Join(parts, ", "))
	if len(tables) == 0 {
		return nil
	}
	// Split off the seconds since settled (the statistics' wait: peykar
	// idle, its periodic polling) from the vacuum's own.
	split.Mark("from settled until the statistics were reported (peykar idle)")
	t0 := time.Now()
	if _, err := pool.Exec(ctx, `VACUUM (ANALYZE) `+strings.Join(tables, ", ")); err != nil {
		return fmt.Errorf("vacuum left: %w", err)
	}
	split.Mark(fmt.Sprintf("a VACUUM ANALYZE of those tables after the window (%s)", time.Since(t0).Round(time.Millisecond)))
	split.Print(os.Stdout, msgs)
	return nil
}

// waitStatsStill waits until the send's tables' counters stop moving for
// 2 s (up to 20 s): each backend reports its row writes within a second
// or so of going idle, after the window. Only the send's own tables:
// River's and the process heartbeats are written all along.
func waitStatsStill(ctx context.Context, pool *pgxpool.Pool) error {
	deadline := time.Now().Add(20 * time.Second)
	var last int64 = -1
	still := time.Now()
	for time.Now().Before(deadline) {
		var n int64
		if err := pool.QueryRow(ctx, `SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0)::bigint FROM pg_stat_user_tables
			WHERE relname IN ('deliveries', 'campaign_people', 'contact_stats', 'send_outcome_log')`).Scan(&n); err != nil {
			return fmt.Errorf("vacuum left: %w", err)
		}
		if n != last {
			last, still = n, time.Now()
		} else if time.Since(still) >= 2*time.Second {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	return nil
}
