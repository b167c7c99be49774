package tracking

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"
)

// people_upsert_lock creates the missing people row and locks the existing
// one in the same statement: another transaction cannot lock either until
// it commits, so the refresh that follows it sees every earlier change.
func TestPeopleUpsertLockCreatesAndLocks(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	camp := b.campaign(t, `[]`, `{}`)
	at := time.Now().Add(-time.Hour)
	_, have := b.delivery(t, camp, at)
	_, missing := b.delivery(t, camp, at)
	_, err := b.pool.Exec(ctx, `INSERT INTO campaign_people (campaign_id, contact_id, sent, delivered) VALUES ($1, $2, true, true)`, camp, have)
	require.NoError(t, err)

	tx, err := b.pool.Begin(ctx)
	require.NoError(t, err)
	defer func() { _ = tx.Rollback(ctx) }()
	batch := &pgx.Batch{}
	queuePeopleUpsertLock(batch, []person{{camp, missing}, {camp, have}, {camp, have}})
	require.NoError(t, tx.SendBatch(ctx, batch).Close())

	other, err := b.pool.Begin(ctx)
	require.NoError(t, err)
	defer func() { _ = other.Rollback(ctx) }()
	_, err = other.Exec(ctx, `SELECT 1 FROM campaign_people WHERE campaign_id = $1 AND contact_id = $2 FOR NO KEY UPDATE NOWAIT`, camp, have)
	var pe *pgconn.PgError
	require.True(t, errors.As(err, &pe) && pe.Code == "55P03", "the existing row is locked: %v", err)
	require.NoError(t, other.Rollback(ctx))

	// The existing row is unchanged, the missing one created empty.
	var sent, delivered bool
	require.NoError(t, tx.QueryRow(ctx, `SELECT sent, delivered FROM campaign_people WHERE campaign_id = $1 AND contact_id = $2`, camp, have).Scan(&sent, &delivered))
	require.True(t, sent && delivered)
	require.Equal(t, int64(2), countTx(t, tx, `SELECT count(*) FROM campaign_people WHERE campaign_id = $1`, camp))
}

func countTx(t *testing.T, tx pgx.Tx, q string, args ...any) int64 {
	t.Helper()
	var n int64
	require.NoError(t, tx.QueryRow(context.Background(), q, args...).Scan(&n))
	return n
}

// Clicks and opens from many concurrent requests, people with and without
// a row (people_upsert_lock creates the one and locks the other): the
// people rows equal their deliveries and the people counters count the
// rows.
func TestClickBatchesKeepPeopleCounters(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	camp := b.campaign(t, `[]`, `{}`, "https://shop.example/a", "https://shop.example/b")
	at := time.Now().Add(-time.Hour)
	var urls []string
	for i := range 40 {
		d, c := b.delivery(t, camp, at)
		if i%2 == 0 {
			_, err := b.pool.Exec(ctx, `INSERT INTO campaign_people (campaign_id, contact_id, sent, delivered) VALUES ($1, $2, true, true)`, camp, c)
			require.NoError(t, err)
			_, err = b.pool.Exec(ctx, `INSERT INTO rollups (campaign_id, step, link_idx, metric, bucket, machine, count, value)
				VALUES ($1, '', -1, $2, date_trunc('minute', now()), false, 1, 0)
				ON CONFLICT (campaign_id, step, link_idx, metric, bucket, machine) DO UPDATE SET count = rollups.count + 1`, camp, MetricPeopleSent)
			require.NoError(t, err)
		}
		urls = append(urls, b.signer.ClickURL(b.url, d, i%2, ""), b.signer.OpenURL(b.url, d))
	}
	require.NoError(t, RebuildTotals(ctx, b.pool, camp))
	errs := make(chan error, len(urls))
	for _, u := range urls {
		go func() {
			resp, err := b.client.Get(u)
			if err == nil {
				_ = resp.Body.Close()
				if resp.StatusCode != http.StatusFound && resp.StatusCode != http.StatusOK {
					err = fmt.Errorf("%s: %d", u, resp.StatusCode)
				}
			}
			errs <- err
		}()
	}
	for range urls {
		require.NoError(t, <-errs)
	}
	b.settle(t)
	require.Equal(t, int64(40), b.count(t, `SELECT count(*) FROM campaign_people WHERE campaign_id = $1`, camp))
	requirePeopleEqualDeliveries(t, b, camp)
	got := b.count(t, `SELECT coalesce(sum(count), 0)::bigint FROM rollup_totals
		WHERE campaign_id = $1 AND step = '' AND link_idx = -1 AND NOT machine AND metric = $2`, camp, MetricPeopleClicks)
	require.Equal(t, b.count(t, `SELECT count(*) FROM campaign_people WHERE campaign_id = $1 AND clicked = 2`, camp), got)
	require.Equal(t, int64(40), b.rollup(t, camp, MetricClicks, false)+b.rollup(t, camp, MetricClicks, true))
}
