package campaigns

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// ListByStatus returns up to limit campaigns whose status is one of
// statuses, the latest to finish (or else to launch, or else to be
// created) first, with their steps: the dashboard's running campaigns and
// its latest results.
func ListByStatus(ctx context.Context, db DBTX, statuses []string, limit int) ([]Campaign, error) {
	rows, err := db.Query(ctx, query("campaigns_by_status"), statuses, limit)
	if err != nil {
		return nil, fmt.Errorf("campaigns by status: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Campaign, error) { return scanCampaign(r) })
	if err != nil {
		return nil, fmt.Errorf("campaigns by status: %w", err)
	}
	for i := range list {
		if list[i].Steps, err = steps(ctx, db, list[i].ID); err != nil {
			return nil, err
		}
	}
	return list, nil
}
