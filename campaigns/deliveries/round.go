package deliveries

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// CreateRound is Create for one round (a triggered campaign's entry id, or
// a message's id): it inserts the step's deliveries for contacts in that
// round, skipping those that exist, and returns the ids of the new ones.
// Round 0 is Create.
func CreateRound(ctx context.Context, db DBTX, campaignID int64, step string, contactIDs []int64, round int64) ([]int64, error) {
	rows, err := db.Query(ctx, queries.Get("create_round"), campaignID, step, contactIDs, round)
	if err != nil {
		return nil, fmt.Errorf("insert deliveries: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("insert deliveries: %w", err)
	}
	return ids, nil
}

// SkipRound gives up the contact's deliveries of one round of the campaign
// that were not sent yet, with reason as their error, and returns the rows
// it changed for the caller to count.
func SkipRound(ctx context.Context, db DBTX, campaignID, contactID, round int64, reason string) ([]Final, error) {
	rows, err := db.Query(ctx, queries.Get("skip_round"), campaignID, contactID, round, reason)
	if err != nil {
		return nil, fmt.Errorf("skip round: %w", err)
	}
	finals, err := collectFinals(rows)
	if err != nil {
		return nil, fmt.Errorf("skip round: %w", err)
	}
	return finals, nil
}

// RoundPending reports whether the contact's round of the campaign still
// has deliveries not sent (queued, or in a sender's hands).
func RoundPending(ctx context.Context, db DBTX, campaignID, contactID, round int64) (bool, error) {
	var pending bool
	if err := db.QueryRow(ctx, queries.Get("round_pending"), campaignID, contactID, round).Scan(&pending); err != nil {
		return false, fmt.Errorf("round pending: %w", err)
	}
	return pending, nil
}
