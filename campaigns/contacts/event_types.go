package contacts

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// EventTypes returns the contact event types among the latest 10,000
// events, sorted (at most 200): the journey builder offers them.
func EventTypes(ctx context.Context, db DBTX) ([]string, error) {
	rows, err := db.Query(ctx, query("event_types"))
	if err != nil {
		return nil, fmt.Errorf("event types: %w", err)
	}
	types, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("event types: %w", err)
	}
	return types, nil
}
