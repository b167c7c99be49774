package deliveries_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/campaigns/deliveries"
	"github.com/peykar/peykar/migrations/pgtest"
)

// BenchmarkClaim measures a send chunk's claim (200 queued deliveries of
// one campaign, each claimed once, as a send job claims them) in the
// backend's CPU per row, with campaign_exits empty and with an exit of
// another campaign in it: every claimed row probes that table's index
// either way. A guard that skipped the probe when the table is empty was
// tried and measured nothing (docs/benchmarks.md, Sending, "the send
// path's plans, statement by statement").
//
//	go test ./campaigns/deliveries -run '^$' -bench Claim -benchtime 200x -count 3
func BenchmarkClaim(b *testing.B) {
	for _, exits := range []string{"no_exits", "exits_elsewhere"} {
		b.Run(exits, func(b *testing.B) {
			ctx := context.Background()
			pool := pgtest.NewPool(b)
			const chunk = 200
			rows, err := pool.Query(ctx, `INSERT INTO contacts (email) SELECT 'c' || i || '@example.com' FROM generate_series(1, $1) i RETURNING id`, b.N*chunk)
			require.NoError(b, err)
			contacts, err := pgx.CollectRows(rows, pgx.RowTo[int64])
			require.NoError(b, err)
			var cid, other int64
			require.NoError(b, pool.QueryRow(ctx, `INSERT INTO campaigns (name, status) VALUES ('b', 'running') RETURNING id`).Scan(&cid))
			require.NoError(b, pool.QueryRow(ctx, `INSERT INTO campaigns (name, status) VALUES ('o', 'running') RETURNING id`).Scan(&other))
			var ids []int64
			for start := 0; start < len(contacts); start += 2000 {
				page, err := deliveries.Create(ctx, pool, cid, "main", contacts[start:min(start+2000, len(contacts))])
				require.NoError(b, err)
				ids = append(ids, page...)
			}
			if exits == "exits_elsewhere" {
				_, err := pool.Exec(ctx, `INSERT INTO campaign_exits (campaign_id, contact_id, rule_name) VALUES ($1, $2, 'r')`, other, contacts[0])
				require.NoError(b, err)
			}
			_, err = pool.Exec(ctx, `VACUUM ANALYZE contacts, deliveries, campaign_exits`)
			require.NoError(b, err)
			benchRows(b, pool, chunk, func(ctx context.Context, tx pgx.Tx, i int) error {
				claimed, err := deliveries.Claim(ctx, tx, int64(i+1), ids[i*chunk:(i+1)*chunk], time.Hour)
				if err == nil && len(claimed) != chunk {
					b.Fatalf("claimed %d of %d", len(claimed), chunk)
				}
				return err
			})
		})
	}
}
