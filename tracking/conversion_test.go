package tracking

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

func TestRecordConversion(t *testing.T) {
	t.Parallel()
	clk := newTestClock(time.Now())
	b := setup(t, func(c *Config) { c.Now = clk.Now })
	ctx := context.Background()
	short := b.campaign(t, `[]`, `{"conversion_window":"1h"}`, "https://a.example/")
	long := b.campaign(t, `[]`, `{}`, "https://b.example/")
	dLong, contact := b.delivery(t, long, clk.Now().Add(-time.Hour))
	var dShort int64
	require.NoError(t, b.pool.QueryRow(ctx, `INSERT INTO deliveries (campaign_id, step, contact_id, status, sent_at) VALUES ($1, 'main', $2, 'sent', now() - interval '1 hour') RETURNING id`,
		short, contact).Scan(&dShort))
	res, _ := b.get(t, b.signer.ClickURL(b.url, dLong, 0, ""), browserUA)
	require.Equal(t, http.StatusFound, res.StatusCode)
	clk.Advance(10 * time.Millisecond) // the short campaign's click is the later one
	res, _ = b.get(t, b.signer.ClickURL(b.url, dShort, 0, ""), browserUA)
	require.Equal(t, http.StatusFound, res.StatusCode)

	conv := b.svc.Conversions()
	record := func(campaignID *int64, value float64, at time.Time) int64 {
		var txID int64
		require.NoError(t, pgx.BeginFunc(ctx, b.pool, func(tx pgx.Tx) error {
			if err := tx.QueryRow(ctx, `INSERT INTO transactions (contact_id, type, value, occurred_at) VALUES ($1, 'purchase', $2, $3) RETURNING id`,
				contact, value, at).Scan(&txID); err != nil {
				return err
			}
			return conv.RecordConversion(ctx, tx, contact, txID, campaignID, value, at)
		}))
		return txID
	}
	attributed := func(txID int64) (d, c *int64) {
		require.NoError(t, b.pool.QueryRow(ctx, `SELECT delivery_id, campaign_id FROM transactions WHERE id = $1`, txID).Scan(&d, &c))
		return d, c
	}

	// Within an hour: the most recent click (the short campaign) wins.
	tx1 := record(nil, 49.5, clk.Now().Add(30*time.Minute))
	d, c := attributed(tx1)
	require.Equal(t, dShort, *d)
	require.Equal(t, short, *c)
	// After two hours the short window has closed: the long campaign's click.
	tx2 := record(nil, 10, clk.Now().Add(2*time.Hour))
	d, _ = attributed(tx2)
	require.Equal(t, dLong, *d)
	// After eight days nothing explains it.
	tx3 := record(nil, 5, clk.Now().Add(8*24*time.Hour))
	d, c = attributed(tx3)
	require.Nil(t, d)
	require.Nil(t, c)
	// An explicit campaign wins.
	tx4 := record(&long, 7, clk.Now())
	d, _ = attributed(tx4)
	require.Equal(t, dLong, *d)

	require.Equal(t, int64(1), b.rollup(t, short, MetricConversions, false))
	require.Equal(t, int64(2), b.rollup(t, long, MetricConversions, false))
	require.Equal(t, 17.0, scalar[float64](t, b, `SELECT sum(value)::float8 FROM rollups WHERE campaign_id = $1 AND metric = 'revenue'`, long))
	require.Equal(t, 49.5, scalar[float64](t, b, `SELECT value::float8 FROM events WHERE type = 'conversion' AND delivery_id = $1`, dShort))
}

// TestConversionSeesAClickNotYetFolded: a purchase recorded while the
// contact's click still waits to be folded (the follower held off by
// another session holding its lock) is attributed to that click's
// delivery, as it would be a moment later.
func TestConversionSeesAClickNotYetFolded(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	camp := b.campaign(t, `[]`, `{}`, "https://a.example/")
	d, contact := b.delivery(t, camp, time.Now().Add(-time.Hour))

	hold, err := b.pool.Acquire(ctx)
	require.NoError(t, err)
	defer hold.Release()
	_, err = hold.Exec(ctx, `SELECT pg_advisory_lock(hashtextextended('peykar/tracking/follower', 0))`)
	require.NoError(t, err)
	res, _ := b.doNow(t, http.MethodGet, b.signer.ClickURL(b.url, d, 0, ""), browserUA)
	require.Equal(t, http.StatusFound, res.StatusCode)
	require.Equal(t, int64(1), b.count(t, `SELECT count(*) FROM events WHERE delivery_id = $1 AND followed
		AND id > (SELECT id FROM tracking_watermark)`, d), "the click waits to be folded")
	require.Nil(t, scalar[*time.Time](t, b, `SELECT first_click_at FROM deliveries WHERE id = $1`, d), "its delivery's first click is not written yet")
	lag, err := b.svc.InboxLag(ctx)
	require.NoError(t, err)
	require.Positive(t, lag, "the waiting click shows as the reports' lag")

	var txID int64
	require.NoError(t, pgx.BeginFunc(ctx, b.pool, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `INSERT INTO transactions (contact_id, type, value, occurred_at) VALUES ($1, 'purchase', 20, now()) RETURNING id`,
			contact).Scan(&txID); err != nil {
			return err
		}
		return b.svc.Conversions().RecordConversion(ctx, tx, contact, txID, nil, 20, time.Now())
	}))
	var got *int64
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT delivery_id FROM transactions WHERE id = $1`, txID).Scan(&got))
	require.NotNil(t, got, "attributed")
	require.Equal(t, d, *got)

	_, err = hold.Exec(ctx, `SELECT pg_advisory_unlock(hashtextextended('peykar/tracking/follower', 0))`)
	require.NoError(t, err)
	b.settle(t)
	lag, err = b.svc.InboxLag(ctx)
	require.NoError(t, err)
	require.Zero(t, lag, "nothing waits once folded")
}
