package main

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// statsFlush is how long a backend may keep its table counters before
// they reach pg_stat_user_tables: PostgreSQL 15 flushes an idle backend's
// pending counters after PGSTAT_IDLE_INTERVAL (10 s) when its last flush
// was less than a second ago.
const statsFlush = 11 * time.Second

// tableWrites is one table's row-version counters (pg_stat_user_tables).
type tableWrites struct{ ins, upd, hot, del int64 }

// writeCounts snapshots every user table's counters, for -writes.
func writeCounts(ctx context.Context, pool *pgxpool.Pool) (map[string]tableWrites, error) {
	rows, err := pool.Query(ctx, `SELECT relname, n_tup_ins, n_tup_upd, n_tup_hot_upd, n_tup_del FROM pg_stat_user_tables`)
	if err != nil {
		return nil, fmt.Errorf("-writes: %w", err)
	}
	defer rows.Close()
	m := map[string]tableWrites{}
	for rows.Next() {
		var name string
		var w tableWrites
		if err := rows.Scan(&name, &w.ins, &w.upd, &w.hot, &w.del); err != nil {
			return nil, fmt.Errorf("-writes: %w", err)
		}
		m[name] = w
	}
	return m, rows.Err()
}

// printWrites prints, per click, what the window wrote: each table's row
// versions inserted, updated (HOT or not) and deleted (the counters'
// difference from before, read once every backend has flushed them), and
// the window's WAL records by resource manager, record type and relation
// (pg_walinspect; a btree's INSERT_LEAF records are its index tuples
// inserted, Heap/LOCK records the row locks taken), with their bytes and
// full-page images' bytes.
func printWrites(ctx context.Context, pool *pgxpool.Pool, before map[string]tableWrites, from, to string, clicks int64) error {
	n := float64(max(clicks, 1))
	time.Sleep(statsFlush)
	after, err := writeCounts(ctx, pool)
	if err != nil {
		return err
	}
	names := make([]string, 0, len(after))
	for name := range after {
		names = append(names, name)
	}
	sort.Strings(names)
	fmt.Printf("writes per click (%d clicks), pg_stat_user_tables: inserted, updated (HOT), deleted\n", clicks)
	for _, name := range names {
		a, b := after[name], before[name]
		d := tableWrites{a.ins - b.ins, a.upd - b.upd, a.hot - b.hot, a.del - b.del}
		if d.ins+d.upd+d.del == 0 {
			continue
		}
		fmt.Printf("  %-28s ins %7.3f  upd %7.3f (HOT %7.3f)  del %7.3f   [%d / %d (%d) / %d]\n",
			name, float64(d.ins)/n, float64(d.upd)/n, float64(d.hot)/n, float64(d.del)/n, d.ins, d.upd, d.hot, d.del)
	}
	if from == "" || to == "" {
		return nil
	}
	if _, err := pool.Exec(ctx, `CREATE EXTENSION IF NOT EXISTS pg_walinspect`); err != nil {
		return fmt.Errorf("-writes: pg_walinspect: %w", err)
	}
	rows, err := pool.Query(ctx, `WITH r AS (
			SELECT resource_manager || '/' || split_part(record_type, ' ', 1) AS kind, record_length AS size /* FPI included */, fpi_length AS fpi,
				(regexp_match(block_ref, 'blkref #0: rel \d+/\d+/(\d+)'))[1]::oid AS node
			FROM pg_get_wal_records_info($1::pg_lsn, $2::pg_lsn))
		SELECT r.kind, coalesce(c.relname, ''), count(*), sum(r.size)::bigint, sum(r.fpi)::bigint
		FROM r LEFT JOIN pg_class c ON c.relfilenode = r.node AND r.node <> 0
		GROUP BY 1, 2 ORDER BY sum(r.size) DESC`, from, to)
	if err != nil {
		return fmt.Errorf("-writes: pg_walinspect: %w", err)
	}
	defer rows.Close()
	var recs, bytes, fpis int64
	fmt.Println("WAL per click (the window): records  bytes (FPI incl.)  of which FPI  record type  relation")
	for rows.Next() {
		var kind, rel string
		var c, size, fpi int64
		if err := rows.Scan(&kind, &rel, &c, &size, &fpi); err != nil {
			return err
		}
		recs, bytes, fpis = recs+c, bytes+size, fpis+fpi
		if float64(c)/n < 0.001 && float64(size+fpi)/n < 1 {
			continue
		}
		fmt.Printf("  %9.3f %12.1f %10.1f  %-24s %s\n", float64(c)/n, float64(size)/n, float64(fpi)/n, kind, rel)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	fmt.Printf("  %9.3f %12.1f %10.1f  all\n", float64(recs)/n, float64(bytes)/n, float64(fpis)/n)
	return nil
}
