package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"
)

// explain prints how the converted-recipients, progress and export queries
// run inside the database (EXPLAIN ANALYZE), for -explain.
func explain(ctx context.Context, pool *pgxpool.Pool, id int64) error {
	qs := map[string]string{
		"converted": `SELECT step, count(DISTINCT delivery_id) FROM events WHERE campaign_id = $1 AND type = 'conversion' GROUP BY step`,
		"progress": `SELECT metric, sum(count)::bigint FROM rollups WHERE campaign_id = $1 AND link_idx = -1 AND NOT machine
			AND metric IN ('deliveries', 'sent', 'send_bounced', 'bounces', 'failed', 'skipped') GROUP BY metric`,
		"export": `SELECT d.id, coalesce(ct.email, ''), coalesce(e.opens, 0) FROM deliveries d
			LEFT JOIN contacts ct ON ct.id = d.contact_id
			LEFT JOIN (SELECT delivery_id, count(*) FILTER (WHERE type = 'open') AS opens, sum(value) FILTER (WHERE type = 'conversion') AS revenue
				FROM events WHERE campaign_id = $1 GROUP BY delivery_id) e ON e.delivery_id = d.id
			WHERE d.campaign_id = $1 ORDER BY d.id`,
	}
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SET jit = off`); err != nil {
		return err
	}
	for name, q := range qs {
		rows, err := conn.Query(ctx, "EXPLAIN (ANALYZE, BUFFERS) "+q, id)
		if err != nil {
			return err
		}
		var lines []string
		for rows.Next() {
			var l string
			if err := rows.Scan(&l); err != nil {
				return err
			}
			lines = append(lines, l)
		}
		rows.Close()
		fmt.Printf("--- %s\n%s\n", name, strings.Join(lines, "\n"))
	}
	return nil
}
