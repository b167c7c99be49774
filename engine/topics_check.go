package engine

import (
	"context"

	"github.com/peykar/peykar/campaigns"
	"github.com/peykar/peykar/campaigns/deliveries"
	"github.com/peykar/peykar/campaigns/topics"
)

// skipUnsubscribedDetail is the reason a delivery is skipped when its
// contact left the campaign's topics after the launch.
const skipUnsubscribedDetail = "contact unsubscribed from the campaign's topics"

// topicMembers returns, for a campaign that targets topics, which of the
// group's contacts are still subscribed to one of them; nil when the
// campaign targets no topics (everyone passes).
func (w *SendWorker) topicMembers(ctx context.Context, c *campaigns.Campaign, group []deliveries.Delivery) (map[int64]bool, error) {
	if len(c.TopicIDs) == 0 {
		return nil, nil
	}
	ids := make([]int64, len(group))
	for i, d := range group {
		ids[i] = d.ContactID
	}
	return topics.SubscribedAmong(ctx, w.Pool, ids, c.TopicIDs)
}
