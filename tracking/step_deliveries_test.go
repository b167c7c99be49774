package tracking

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// TestDeliveriesByStep: per step, the deliveries created and those still
// waiting (created minus sent, refused, failed and skipped); machine rows
// and other metrics do not count.
func TestDeliveriesByStep(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	camp := b.campaign(t, `[]`, `{}`, "https://shop.example/a")
	at := time.Now().Add(-time.Hour)
	err := pgx.BeginFunc(ctx, b.pool, func(tx pgx.Tx) error {
		return AddCounts(ctx, tx, []Count{
			{CampaignID: camp, Step: "main", Metric: MetricDeliveries, At: at, N: 5},
			{CampaignID: camp, Step: "main", Metric: MetricSent, At: at, N: 2},
			{CampaignID: camp, Step: "main", Metric: MetricSendBounced, At: at, N: 1},
			{CampaignID: camp, Step: "main", Metric: MetricFailed, At: at, N: 1},
			{CampaignID: camp, Step: "offer", Metric: MetricDeliveries, At: at, N: 3},
			{CampaignID: camp, Step: "offer", Metric: MetricSkipped, At: at, N: 1},
		})
	})
	require.NoError(t, err)
	got, err := DeliveriesByStep(ctx, b.pool, camp)
	require.NoError(t, err)
	require.Equal(t, map[string]StepDeliveries{"main": {Created: 5, Waiting: 1}, "offer": {Created: 3, Waiting: 2}}, got)

	none, err := DeliveriesByStep(ctx, b.pool, camp+1)
	require.NoError(t, err)
	require.Empty(t, none)
}
