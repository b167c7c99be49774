package topics

import (
	"context"
	"fmt"
)

// SetMany is Set for many contacts on one topic, in one statement (bulk
// actions): each contact whose status changes gets its consent record;
// changed is how many. The contacts must exist.
func SetMany(ctx context.Context, db DBTX, contactIDs []int64, topicID int64, status Status, src Source) (changed int64, err error) {
	if !status.Valid() {
		return 0, fmt.Errorf("topics: unknown status %q", status)
	}
	if len(contactIDs) == 0 {
		return 0, nil
	}
	a, err := src.args()
	if err != nil {
		return 0, err
	}
	err = db.QueryRow(ctx, queries.Get("set_subscription_many"), append([]any{contactIDs, topicID, string(status)}, a...)...).Scan(&changed)
	if err != nil {
		return 0, fmt.Errorf("set topic %d for %d contacts: %w", topicID, len(contactIDs), err)
	}
	return changed, nil
}

// SubscribeNew subscribes each contact contactIDs[i] to topicIDs[i] when
// it has no state on that topic yet, recording each subscription from src;
// an existing state stays, so an import never re-subscribes someone who
// unsubscribed. It returns how many it subscribed.
func SubscribeNew(ctx context.Context, db DBTX, contactIDs, topicIDs []int64, src Source) (int64, error) {
	if len(contactIDs) != len(topicIDs) {
		return 0, fmt.Errorf("topics: %d contacts for %d topics", len(contactIDs), len(topicIDs))
	}
	if len(contactIDs) == 0 {
		return 0, nil
	}
	a, err := src.args()
	if err != nil {
		return 0, err
	}
	var n int64
	if err := db.QueryRow(ctx, queries.Get("subscribe_new_many"), append([]any{contactIDs, topicIDs}, a...)...).Scan(&n); err != nil {
		return 0, fmt.Errorf("subscribe %d contacts: %w", len(contactIDs), err)
	}
	return n, nil
}
