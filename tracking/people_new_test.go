package tracking

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// requirePeopleEqualDeliveries checks that campaign camp's people rows
// equal their state recomputed from the deliveries, and that the people
// counters equal counts over those rows.
func requirePeopleEqualDeliveries(t *testing.T, b *bundle, camp int64) {
	t.Helper()
	require.Zero(t, b.count(t, `SELECT count(*) FROM campaign_people p FULL JOIN (
		SELECT d.contact_id, bool_or(d.sent_at IS NOT NULL) AS sent,
			bool_or(d.sent_at IS NOT NULL AND d.bounced_at IS NULL) AS delivered,
			(CASE WHEN bool_or(d.first_open_at IS NOT NULL) THEN 2 WHEN bool_or(d.first_machine_open_at IS NOT NULL) THEN 1 ELSE 0 END)::smallint AS opened
		FROM deliveries d WHERE d.campaign_id = $1 AND d.sent_at IS NOT NULL GROUP BY 1) a
		ON a.contact_id = p.contact_id AND p.campaign_id = $1
		WHERE (p.campaign_id = $1 OR p.campaign_id IS NULL)
			AND (p.sent, p.delivered, p.opened) IS DISTINCT FROM (a.sent, a.delivered, a.opened)`, camp),
		"people rows differ from their deliveries")
	for metric, where := range map[string]string{
		MetricPeopleSent:    "sent",
		MetricPeopleBounced: "sent AND NOT delivered",
		MetricPeopleOpens:   "opened = 2",
	} {
		want := b.count(t, `SELECT count(*) FROM campaign_people WHERE campaign_id = $1 AND `+where, camp)
		got := b.count(t, `SELECT coalesce(sum(count), 0)::bigint FROM rollup_totals
			WHERE campaign_id = $1 AND step = '' AND link_idx = -1 AND NOT machine AND metric = $2`, camp, metric)
		require.Equal(t, want, got, metric)
	}
	requireTotalsEqualRollups(t, b, camp)
}

// A send's outcome creates the people the campaign has no row for with
// their state in one statement, and refreshes those it has (here one the
// tracking writer created for an open): both give the rows and counters a
// recompute from the deliveries gives, in one flush and in the next.
func TestSendOutcomesCreateAndRefreshPeople(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	camp := b.campaign(t, `[]`, `{}`)
	at := time.Now().Add(-time.Minute)
	_, c1 := b.delivery(t, camp, at)
	d2, c2 := b.delivery(t, camp, at)
	d3, c3 := b.delivery(t, camp, at)
	_, err := b.pool.Exec(ctx, `UPDATE deliveries SET status = 'bounced', bounced_at = $2 WHERE id = $1`, d2, at)
	require.NoError(t, err)
	// c3's row exists already: an open counted before the send's flush.
	_, err = b.pool.Exec(ctx, `UPDATE deliveries SET first_open_at = $2 WHERE id = $1`, d3, at)
	require.NoError(t, err)
	_, err = b.pool.Exec(ctx, `INSERT INTO campaign_people (campaign_id, contact_id, opened) VALUES ($1, $2, 2)`, camp, c3)
	require.NoError(t, err)
	_, err = b.pool.Exec(ctx, `INSERT INTO rollups (campaign_id, step, link_idx, metric, bucket, machine, count, value)
		VALUES ($1, '', -1, $2, date_trunc('minute', now()), false, 1, 0)`, camp, MetricPeopleOpens)
	require.NoError(t, err)
	_, err = b.pool.Exec(ctx, `INSERT INTO rollup_totals (campaign_id, step, link_idx, metric, machine, count, value)
		VALUES ($1, '', -1, $2, false, 1, 0)`, camp, MetricPeopleOpens)
	require.NoError(t, err)

	send := func(counts ...Count) {
		t.Helper()
		require.NoError(t, pgx.BeginFunc(ctx, b.pool, func(tx pgx.Tx) error { return AddCounts(ctx, tx, counts) }))
	}
	send(Count{CampaignID: camp, Step: "main", Metric: MetricSent, At: at, N: 1, ContactID: c1},
		Count{CampaignID: camp, Step: "main", Metric: MetricSendBounced, At: at, N: 1, ContactID: c2},
		Count{CampaignID: camp, Step: "main", Metric: MetricSent, At: at, N: 1, ContactID: c3})
	require.Equal(t, int64(3), b.count(t, `SELECT count(*) FROM campaign_people WHERE campaign_id = $1`, camp))
	require.Equal(t, int64(3), b.count(t, `SELECT count FROM rollup_totals WHERE campaign_id = $1 AND step = '' AND metric = $2`, camp, MetricPeopleSent))
	require.Equal(t, int64(1), b.count(t, `SELECT count FROM rollup_totals WHERE campaign_id = $1 AND step = '' AND metric = $2`, camp, MetricPeopleBounced))
	requirePeopleEqualDeliveries(t, b, camp)

	// A follow-up reaches c2 (bounced before, delivered now) and c1: both
	// rows exist, so they are refreshed; c2 stops counting as bounced.
	for _, c := range []int64{c1, c2} {
		_, err = b.pool.Exec(ctx, `INSERT INTO deliveries (campaign_id, step, contact_id, status, sent_at) VALUES ($1, 'offer', $2, 'sent', $3)`, camp, c, at)
		require.NoError(t, err)
	}
	send(Count{CampaignID: camp, Step: "offer", Metric: MetricSent, At: at, N: 1, ContactID: c1},
		Count{CampaignID: camp, Step: "offer", Metric: MetricSent, At: at, N: 1, ContactID: c2})
	require.Equal(t, int64(3), b.count(t, `SELECT count FROM rollup_totals WHERE campaign_id = $1 AND step = '' AND metric = $2`, camp, MetricPeopleSent))
	require.Zero(t, b.count(t, `SELECT count FROM rollup_totals WHERE campaign_id = $1 AND step = '' AND metric = $2`, camp, MetricPeopleBounced))
	requirePeopleEqualDeliveries(t, b, camp)
}
