package contacts

import (
	"context"
	"fmt"
)

// CountHeld counts the contacts held now: every status but erased (active,
// unsubscribed, bounced and complained contacts alike). CountSendable
// counts those that may be sent to.
func CountHeld(ctx context.Context, db DBTX) (int64, error) {
	var n int64
	if err := db.QueryRow(ctx, query("count_contacts")).Scan(&n); err != nil {
		return 0, fmt.Errorf("count contacts: %w", err)
	}
	return n, nil
}
