package deliveries

import (
	"context"
	"fmt"
)

// NewRound is one delivery to create in a round of its own: a
// transactional message's (Round is the message's id).
type NewRound struct {
	CampaignID int64
	ContactID  int64
	Round      int64
}

// CreateRounds inserts the deliveries of step for rows in one statement
// and returns each new row's id by its round. A row that exists already
// is left alone and missing from the answer: rounds are meant to be new.
func CreateRounds(ctx context.Context, db DBTX, step string, rows []NewRound) (map[int64]int64, error) {
	cs, ks, rs := make([]int64, len(rows)), make([]int64, len(rows)), make([]int64, len(rows))
	for i, r := range rows {
		cs[i], ks[i], rs[i] = r.CampaignID, r.ContactID, r.Round
	}
	res, err := db.Query(ctx, queries.Get("create_rounds"), step, cs, ks, rs)
	if err != nil {
		return nil, fmt.Errorf("insert deliveries: %w", err)
	}
	defer res.Close()
	ids := make(map[int64]int64, len(rows))
	for res.Next() {
		var id, round int64
		if err := res.Scan(&id, &round); err != nil {
			return nil, fmt.Errorf("insert deliveries: %w", err)
		}
		ids[round] = id
	}
	if err := res.Err(); err != nil {
		return nil, fmt.Errorf("insert deliveries: %w", err)
	}
	return ids, nil
}
