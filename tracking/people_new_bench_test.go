package tracking

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/internal/proccpu"
	"github.com/peykar/peykar/migrations/pgtest"
)

// BenchmarkCreatePeople is the send fold's first statement alone: the
// people of 800 sent deliveries (a fold's worth) created with their state
// from their deliveries, one statement per transaction, by the speculative
// insert (QueueCreatePeople, AddCounts') and by the plain one
// (QueueCreateNewPeople, the send fold's). backend-µs/row is the
// PostgreSQL backend's CPU per person (/proc/PID/schedstat), the figure
// the choice rests on; run it under the benchmark lock:
//
//	go test -c -o /tmp/trk.test ./tracking
//	flock -x -o /tmp/quiet.lock /tmp/trk.test -test.run '^$' -test.bench CreatePeople -test.benchtime 40x -test.count 3
func BenchmarkCreatePeople(b *testing.B) {
	for _, c := range []struct {
		name   string
		create func(*pgx.Batch, []Recipient, time.Time) *PendingCounts
	}{{"speculative", QueueCreatePeople}, {"plain", QueueCreateNewPeople}} {
		b.Run(c.name, func(b *testing.B) {
			const perFold = 800
			ctx := context.Background()
			pool := pgtest.NewPool(b)
			var camp int64
			require.NoError(b, pool.QueryRow(ctx, `INSERT INTO campaigns (name, status) VALUES ('b', 'running') RETURNING id`).Scan(&camp))
			rows, err := pool.Query(ctx, `WITH c AS (INSERT INTO contacts (email) SELECT 'b' || i || '@example.com' FROM generate_series(1, $2) i RETURNING id)
				INSERT INTO deliveries (campaign_id, step, contact_id, status, sent_at) SELECT $1, 'main', id, 'sent', now() FROM c ORDER BY id RETURNING contact_id`,
				camp, b.N*perFold)
			require.NoError(b, err)
			contacts, err := pgx.CollectRows(rows, pgx.RowTo[int64])
			require.NoError(b, err)
			_, err = pool.Exec(ctx, `VACUUM ANALYZE contacts, deliveries, campaign_people`)
			require.NoError(b, err)
			conn, err := pool.Acquire(ctx)
			require.NoError(b, err)
			defer conn.Release()
			pid := conn.Conn().PgConn().PID()
			b.ResetTimer()
			before := proccpu.MustSched(b, pid)
			for i := range b.N {
				rs := make([]Recipient, perFold)
				for j := range rs {
					rs[j] = Recipient{CampaignID: camp, ContactID: contacts[i*perFold+j]}
				}
				require.NoError(b, pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
					batch := &pgx.Batch{}
					c.create(batch, rs, time.Now())
					return tx.SendBatch(ctx, batch).Close()
				}))
			}
			cpu := proccpu.MustSched(b, pid) - before
			b.StopTimer()
			var people int
			require.NoError(b, pool.QueryRow(ctx, `SELECT count(*) FROM campaign_people WHERE campaign_id = $1 AND sent`, camp).Scan(&people))
			require.Equal(b, b.N*perFold, people, "every person created")
			b.ReportMetric(float64(cpu)/1e3/float64(b.N*perFold), "backend-µs/row")
		})
	}
}
