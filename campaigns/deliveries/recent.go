package deliveries

import (
	"context"
	"fmt"
	"time"
)

// RecentSends returns, for each of contactIDs with sends after since, when
// they were sent, latest first: sends of campaignID, or of every campaign
// but the transactional ones when campaignID is 0. One statement for the
// whole group (the frequency cap's check of a send group).
func RecentSends(ctx context.Context, db DBTX, contactIDs []int64, campaignID int64, since time.Time) (map[int64][]time.Time, error) {
	out := map[int64][]time.Time{}
	if len(contactIDs) == 0 {
		return out, nil
	}
	rows, err := db.Query(ctx, queries.Get("recent_sends"), contactIDs, campaignID, since)
	if err != nil {
		return nil, fmt.Errorf("recent sends: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var at time.Time
		if err := rows.Scan(&id, &at); err != nil {
			return nil, fmt.Errorf("recent sends: %w", err)
		}
		out[id] = append(out[id], at)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("recent sends: %w", err)
	}
	return out, nil
}

// CountSkippedFor counts the campaign's deliveries skipped for reason.
func CountSkippedFor(ctx context.Context, db DBTX, campaignID int64, reason string) (int64, error) {
	var n int64
	if err := db.QueryRow(ctx, queries.Get("count_skipped_for"), campaignID, reason).Scan(&n); err != nil {
		return 0, fmt.Errorf("count skipped deliveries: %w", err)
	}
	return n, nil
}
