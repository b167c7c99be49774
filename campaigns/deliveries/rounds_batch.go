package deliveries

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// CreateEntryRounds is CreateRound for many rounds in one statement: the
// delivery of step for contactIDs[i] in rounds[i] (a batch of entries into
// a triggered campaign). It returns the ids of the rows it created.
func CreateEntryRounds(ctx context.Context, db DBTX, campaignID int64, step string, contactIDs, rounds []int64) ([]int64, error) {
	if len(contactIDs) != len(rounds) {
		return nil, fmt.Errorf("insert deliveries: %d contacts for %d rounds", len(contactIDs), len(rounds))
	}
	rows, err := db.Query(ctx, queries.Get("create_entry_rounds"), campaignID, step, contactIDs, rounds)
	if err != nil {
		return nil, fmt.Errorf("insert deliveries: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("insert deliveries: %w", err)
	}
	return ids, nil
}
