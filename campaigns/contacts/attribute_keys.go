package contacts

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// AttributeKeys returns the attribute keys (at most 100, sorted) seen on
// the newest sample contacts: the fields a template can personalise with.
func AttributeKeys(ctx context.Context, db DBTX, sample int) ([]string, error) {
	rows, err := db.Query(ctx, query("attribute_keys"), sample)
	if err != nil {
		return nil, fmt.Errorf("attribute keys: %w", err)
	}
	keys, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("attribute keys: %w", err)
	}
	return keys, nil
}
