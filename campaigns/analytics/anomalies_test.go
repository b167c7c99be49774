package analytics

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// campaignWith inserts a campaign launched day days before now with the
// given human counters in its rollups.
func (f *fixture) campaignWith(day int, counts map[string]int64) int64 {
	f.t.Helper()
	at := now.Add(-days(float64(day)))
	var id int64
	// Raw on purpose: a finished campaign whose counters are planted as they
	// are, with no send behind them.
	require.NoError(f.t, f.pool.QueryRow(f.ctx, `INSERT INTO campaigns (name, status, launched_at) VALUES ('a', 'finished', $1) RETURNING id`, at).Scan(&id))
	for metric, n := range counts {
		_, err := f.pool.Exec(f.ctx, `INSERT INTO rollups (campaign_id, step, metric, bucket, count) VALUES ($1, 'main', $2, $3, $4)`,
			id, metric, at, n)
		require.NoError(f.t, err)
	}
	return id
}

func TestAnomaliesFlagPlantedOutlier(t *testing.T) {
	t.Parallel()
	f := setup(t)
	normal := []struct{ bounces, unsub, opens, clicks int64 }{
		{20, 3, 200, 30}, {22, 2, 210, 32}, {18, 3, 190, 28}, {21, 4, 200, 31},
		{19, 2, 220, 29}, {20, 3, 180, 30}, {23, 3, 205, 33}, {20, 2, 195, 27},
	}
	for i, n := range normal {
		f.campaignWith(100-10*i, map[string]int64{
			"sent": 1000, "bounces": n.bounces, "unsubscribes": n.unsub, "unique_opens": n.opens, "unique_clicks": n.clicks,
		})
	}
	// Too small to judge, however odd.
	small := f.campaignWith(15, map[string]int64{"sent": 50, "bounces": 40})
	// The outlier: 15% bounces, opens as usual.
	bad := f.campaignWith(5, map[string]int64{"sent": 850, "send_bounced": 150, "unsubscribes": 3, "unique_opens": 170, "unique_clicks": 26})

	found, err := DetectAnomalies(f.ctx, f.pool, Config{Now: now})
	require.NoError(t, err)
	require.Len(t, found, 1, "%+v", found)
	a := found[0]
	require.Equal(t, bad, a.CampaignID)
	require.Equal(t, "bounce_rate", a.Metric)
	require.InDelta(t, 0.15, a.Value, 1e-9)
	require.Equal(t, len(normal), a.History)
	require.Greater(t, a.Z, 3.0)
	_ = small

	var stored int
	require.NoError(t, f.pool.QueryRow(f.ctx, `SELECT count(*) FROM campaign_anomalies`).Scan(&stored))
	require.Equal(t, 1, stored)

	// Once the bounces are explained away (rollups corrected), the flag goes.
	// Raw on purpose: a corrected counter, as a restore would leave it.
	_, err = f.pool.Exec(f.ctx, `UPDATE rollups SET count = 20 WHERE campaign_id = $1 AND metric = 'send_bounced'`, bad)
	require.NoError(t, err)
	found, err = DetectAnomalies(f.ctx, f.pool, Config{Now: now})
	require.NoError(t, err)
	require.Empty(t, found)
	require.NoError(t, f.pool.QueryRow(f.ctx, `SELECT count(*) FROM campaign_anomalies`).Scan(&stored))
	require.Zero(t, stored)
}
