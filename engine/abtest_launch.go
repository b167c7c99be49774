package engine

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/peykar/peykar/campaigns"
	"github.com/peykar/peykar/campaigns/deliveries"
	"github.com/peykar/peykar/tracking"
)

// launchDeliveries creates a launch page's deliveries of step for
// contactIDs at at. With an A/B test on the step, the test group gets
// deliveries carrying their variants and the rest is recorded as the
// test's remainder, in the page's transaction: a page that runs again
// finds both recorded, and Assign would give the same answer anyway.
func launchDeliveries(ctx context.Context, tx pgx.Tx, c *campaigns.Campaign, step string, contactIDs []int64, at time.Time) ([]int64, error) {
	t := c.ABTest
	variants := c.StepVariants(step)
	if t == nil || t.Step != step || len(variants) == 0 {
		return insertDeliveries(ctx, tx, c.ID, step, contactIDs, at)
	}
	if err := campaigns.StartABTest(ctx, tx, c.ID, step, at, at.Add(t.DurationValue())); err != nil {
		return nil, err
	}
	test := make([]int64, 0, len(contactIDs))
	keys := make([]string, 0, len(contactIDs))
	var rest []int64
	for _, id := range contactIDs {
		v, in := t.Assign(c.ID, id, len(variants))
		if !in {
			rest = append(rest, id)
			continue
		}
		test = append(test, id)
		keys = append(keys, variants[v].Key)
	}
	if err := campaigns.AddRemainder(ctx, tx, c.ID, rest); err != nil {
		return nil, err
	}
	ids, err := deliveries.CreateVariants(ctx, tx, c.ID, step, test, keys)
	if err != nil {
		return nil, err
	}
	err = tracking.AddCounts(ctx, tx, []tracking.Count{{CampaignID: c.ID, Step: step, Metric: tracking.MetricDeliveries, At: at, N: int64(len(ids))}})
	return ids, err
}
