package tracking

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/migrations/pgtest"
)

// TestDatabaseOutage cuts the database off in the middle of traffic
// (connections refused and existing ones terminated), then restores it:
// requests answer 503 meanwhile, clicks on recently seen links still
// redirect, the service recovers by itself, and every acknowledged event is
// stored.
func TestDatabaseOutage(t *testing.T) {
	t.Parallel()
	dsn := pgtest.NewDSN(t)
	pool, err := pgxpool.New(context.Background(), dsn)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	b := setupPool(t, pool, func(c *Config) { c.BatchTimeout = time.Second })
	camp := b.campaign(t, `[]`, `{}`, "https://shop.example/x")
	const n = 8
	var dels [n]int64
	for i := range dels {
		dels[i], _ = b.delivery(t, camp, time.Now().Add(-time.Hour))
	}
	// Warm up: the link and deliveries are seen once.
	for _, d := range dels {
		res, _ := b.get(t, b.signer.ClickURL(b.url, d, 0, ""), browserUA)
		require.Equal(t, http.StatusFound, res.StatusCode)
	}

	admin := adminConn(t, dsn)
	dbname := databaseName(t, dsn)
	var acked [n]atomic.Int64
	var unavailable, redirectsDuringOutage atomic.Int64
	var down atomic.Bool
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			client := &http.Client{Timeout: 10 * time.Second}
			for {
				select {
				case <-stop:
					return
				default:
				}
				res, err := client.Get(b.signer.OpenURL(b.url, dels[i]))
				if err != nil {
					t.Errorf("request: %v", err)
					return
				}
				res.Body.Close()
				switch res.StatusCode {
				case http.StatusOK:
					acked[i].Add(1)
				case http.StatusServiceUnavailable:
					unavailable.Add(1)
				default:
					t.Errorf("status %d", res.StatusCode)
				}
				if down.Load() {
					cres, _ := b.doNow(t, http.MethodGet, b.signer.ClickURL(b.url, dels[i], 0, ""), browserUA)
					if cres.StatusCode == http.StatusFound && cres.Header.Get("Location") == "https://shop.example/x" {
						redirectsDuringOutage.Add(1)
					}
				}
			}
		})
	}
	// Traffic flows before the outage.
	require.Eventually(t, func() bool { return sum(&acked) > 20 }, 30*time.Second, 10*time.Millisecond)
	ctx := context.Background()
	_, err = admin.Exec(ctx, `ALTER DATABASE `+pgx.Identifier{dbname}.Sanitize()+` ALLOW_CONNECTIONS false`)
	require.NoError(t, err)
	_, err = admin.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1`, dbname)
	require.NoError(t, err)
	down.Store(true)
	require.Eventually(t, func() bool { return unavailable.Load() > 20 && redirectsDuringOutage.Load() > 5 }, 30*time.Second, 10*time.Millisecond)
	_, err = admin.Exec(ctx, `ALTER DATABASE `+pgx.Identifier{dbname}.Sanitize()+` ALLOW_CONNECTIONS true`)
	require.NoError(t, err)
	down.Store(false)
	before := sum(&acked)
	require.Eventually(t, func() bool { return sum(&acked) > before+50 }, 30*time.Second, 10*time.Millisecond, "recovers")
	close(stop)
	wg.Wait()
	// The follower recovers by itself too: what was answered is folded.
	b.settle(t)

	for i, d := range dels {
		stored := b.count(t, `SELECT count(*) FROM events WHERE delivery_id = $1 AND type = 'open'`, d)
		// Every acknowledged open is stored; an unacknowledged one may be
		// stored too when its commit's answer was lost with the connection.
		require.GreaterOrEqual(t, stored, acked[i].Load(), "delivery %d", d)
		require.LessOrEqual(t, stored-acked[i].Load(), int64(2), "delivery %d", d)
	}
	var total int64
	for i := range acked {
		total += acked[i].Load()
	}
	require.GreaterOrEqual(t, b.rollup(t, camp, MetricOpens, true)+b.rollup(t, camp, MetricOpens, false), total)
	t.Logf("acknowledged %d opens, %d answered 503, %d redirects while down", total, unavailable.Load(), redirectsDuringOutage.Load())
}

func sum(a *[8]atomic.Int64) int64 {
	var s int64
	for i := range a {
		s += a[i].Load()
	}
	return s
}

func adminConn(t *testing.T, dsn string) *pgx.Conn {
	t.Helper()
	u, err := url.Parse(dsn)
	require.NoError(t, err)
	u.Path = "/postgres"
	conn, err := pgx.Connect(context.Background(), u.String())
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func databaseName(t *testing.T, dsn string) string {
	t.Helper()
	u, err := url.Parse(dsn)
	require.NoError(t, err)
	return strings.TrimPrefix(u.Path, "/")
}
