package deliveries_test

import (
	"context"
	"fmt"
	"io/fs"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/campaigns/deliveries"
	"github.com/peykar/peykar/internal/proccpu"
	"github.com/peykar/peykar/migrations"
	"github.com/peykar/peykar/migrations/pgtest"
)

// BenchmarkReferences measures what migration 047 changed, in isolation:
// a launch page (2,000 deliveries of one campaign, the create statement),
// the same statement for one row at a time, and a send fold's people insert (1,000 campaign_people rows) against
// 100,000 contacts, with the statement triggers (the schema as migrated)
// and with the foreign keys back (047's down section run on the same
// schema). backend-µs/row is the PostgreSQL backend's CPU time per row
// inserted (from /proc/PID/schedstat: the test cluster runs on this
// machine), the figure the per-message target is about.
//
//	go test ./campaigns/deliveries -run '^$' -bench References -benchtime 40x -count 3
func BenchmarkReferences(b *testing.B) {
	for _, schema := range []string{"triggers", "foreign_keys"} {
		b.Run(schema, func(b *testing.B) {
			ctx := context.Background()
			pool := pgtest.NewPool(b)
			if schema == "foreign_keys" {
				_, err := pool.Exec(ctx, downSection(b, "047_delivery_refs_per_statement.sql"))
				require.NoError(b, err)
			}
			var contacts []int64
			rows, err := pool.Query(ctx, `INSERT INTO contacts (email) SELECT 'b' || i || '@example.com' FROM generate_series(1, 100000) i RETURNING id`)
			require.NoError(b, err)
			contacts, err = pgx.CollectRows(rows, pgx.RowTo[int64])
			require.NoError(b, err)
			_, err = pool.Exec(ctx, `VACUUM ANALYZE contacts`)
			require.NoError(b, err)

			b.Run("launch_page", func(b *testing.B) {
				benchRows(b, pool, 2000, func(ctx context.Context, tx pgx.Tx, i int) error {
					cid := newCampaign(ctx, b, tx)
					start := (i * 2000) % len(contacts)
					ids, err := deliveries.Create(ctx, tx, cid, "main", contacts[start:start+2000])
					if err == nil && len(ids) != 2000 {
						err = fmt.Errorf("inserted %d", len(ids))
					}
					return err
				})
			})
			// A statement of one row (a rule's send, a transactional
			// message): the statement trigger's fixed cost is all there is.
			b.Run("one_row", func(b *testing.B) {
				benchRows(b, pool, 100, func(ctx context.Context, tx pgx.Tx, i int) error {
					cid := newCampaign(ctx, b, tx)
					start := (i * 100) % len(contacts)
					for _, c := range contacts[start : start+100] {
						if _, err := deliveries.Create(ctx, tx, cid, "main", []int64{c}); err != nil {
							return err
						}
					}
					return nil
				})
			})
			b.Run("people", func(b *testing.B) {
				benchRows(b, pool, 1000, func(ctx context.Context, tx pgx.Tx, i int) error {
					cid := newCampaign(ctx, b, tx)
					start := (i * 1000) % len(contacts)
					_, err := tx.Exec(ctx, `INSERT INTO campaign_people (campaign_id, contact_id) SELECT $1, unnest($2::bigint[])`,
						cid, contacts[start:start+1000])
					return err
				})
			})
		})
	}
}

// benchRows runs insert b.N times, each in its own committed transaction on
// one connection, and reports the backend's CPU per row (the campaign row
// each iteration creates is inside the measure, ≈ 0.1% of it).
func benchRows(b *testing.B, pool *pgxpool.Pool, perOp int, insert func(context.Context, pgx.Tx, int) error) {
	ctx := context.Background()
	conn, err := pool.Acquire(ctx)
	require.NoError(b, err)
	defer conn.Release()
	pid := conn.Conn().PgConn().PID()
	b.ResetTimer()
	before := proccpu.MustSched(b, pid)
	for i := 0; i < b.N; i++ {
		require.NoError(b, pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error { return insert(ctx, tx, i) }))
	}
	cpu := proccpu.MustSched(b, pid) - before
	b.StopTimer()
	b.ReportMetric(float64(cpu)/1e3/float64(b.N*perOp), "backend-µs/row")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/1e3/float64(b.N*perOp), "wall-µs/row")
}

func newCampaign(ctx context.Context, tb testing.TB, tx pgx.Tx) int64 {
	var id int64
	require.NoError(tb, tx.QueryRow(ctx, `INSERT INTO campaigns (name, status) VALUES ('b', 'running') RETURNING id`).Scan(&id))
	return id
}

// downSection is the part of migration name after its create/drop marker.
func downSection(b *testing.B, name string) string {
	raw, err := fs.ReadFile(migrations.FS(), name)
	require.NoError(b, err)
	_, down, ok := strings.Cut(string(raw), "---- create above / drop below ----")
	require.True(b, ok)
	return down
}
