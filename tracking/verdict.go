package tracking

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// Querier is what StoredVerdict reads through: a pool, a connection or a
// transaction.
type Querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// StoredVerdict returns the classification stored for an event now (after
// any reclassification). It returns ErrNotFound when the event is gone (its
// delivery, contact or campaign was deleted).
func StoredVerdict(ctx context.Context, db Querier, eventID int64) (Verdict, error) {
	var v Verdict
	err := db.QueryRow(ctx, query("stored_verdict"), eventID).Scan(&v.Machine, &v.Reason)
	if errors.Is(err, pgx.ErrNoRows) {
		return Verdict{}, ErrNotFound
	}
	if err != nil {
		return Verdict{}, fmt.Errorf("tracking: read verdict of event %d: %w", eventID, err)
	}
	return v, nil
}
