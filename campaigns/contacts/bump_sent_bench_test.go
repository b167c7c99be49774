package contacts_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/campaigns/contacts"
	"github.com/peykar/peykar/internal/proccpu"
	"github.com/peykar/peykar/migrations/pgtest"
)

// BenchmarkBumpSent is the contacts' sent counts alone, as a send flush
// added them (≈ 25 contacts per statement) and as the send fold adds them
// (≈ 800), 32,000 new contacts per run, inside one transaction (so the
// figure is the statements', not the commits'). backend-µs/row is the
// PostgreSQL backend's CPU per contact (/proc/PID/schedstat); run it under
// the benchmark lock:
//
//	go test -c -o /tmp/contacts.test ./campaigns/contacts
//	flock -x -o /tmp/quiet.lock /tmp/contacts.test -test.run '^$' -test.bench BumpSent -test.benchtime 1x -test.count 5
func BenchmarkBumpSent(b *testing.B) {
	for _, perStatement := range []int{25, 800} {
		b.Run(fmt.Sprint(perStatement), func(b *testing.B) {
			const rows = 32000
			ctx := context.Background()
			pool := pgtest.NewPool(b)
			got, err := pool.Query(ctx, `INSERT INTO contacts (email) SELECT 'b' || i || '@example.com' FROM generate_series(1, $1) i RETURNING id`, b.N*rows)
			require.NoError(b, err)
			ids, err := pgx.CollectRows(got, pgx.RowTo[int64])
			require.NoError(b, err)
			_, err = pool.Exec(ctx, `VACUUM ANALYZE contacts, contact_stats`)
			require.NoError(b, err)
			conn, err := pool.Acquire(ctx)
			require.NoError(b, err)
			defer conn.Release()
			pid := conn.Conn().PgConn().PID()
			b.ResetTimer()
			var cpu int64
			for i := range b.N {
				require.NoError(b, pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
					before := proccpu.MustSched(b, pid)
					for start := i * rows; start < (i+1)*rows; start += perStatement {
						if err := contacts.BumpSent(ctx, tx, ids[start:start+perStatement], time.Now()); err != nil {
							return err
						}
					}
					cpu += proccpu.MustSched(b, pid) - before
					return nil
				}))
			}
			b.StopTimer()
			var sent int64
			require.NoError(b, pool.QueryRow(ctx, `SELECT coalesce(sum(sent), 0)::bigint FROM contact_stats`).Scan(&sent))
			require.EqualValues(b, b.N*rows, sent, "every contact counted once")
			b.ReportMetric(float64(cpu)/1e3/float64(b.N*rows), "backend-µs/row")
		})
	}
}
