package contacts

import (
	"context"
	"log/slog"

	"github.com/jackc/pgx/v5"
)

// ChangeHook hears that contacts changed (package engine implements it:
// the segment-entry journeys check each changed contact against their
// segments). It is called in a transaction of its own once the change has
// committed; what it enqueues commits there.
type ChangeHook interface {
	ContactsChanged(ctx context.Context, tx pgx.Tx, ids []int64) error
}

// changed hands ids to deps.Changes. A failure is logged, not returned:
// the change itself stands, and the journeys' periodic check sees it
// within its interval.
func (h *handlers) changed(ctx context.Context, ids ...int64) {
	if h.deps.Changes == nil {
		return
	}
	err := pgx.BeginFunc(ctx, h.deps.Pool, func(tx pgx.Tx) error {
		return h.deps.Changes.ContactsChanged(ctx, tx, ids)
	})
	if err != nil {
		h.deps.Logger.WarnContext(ctx, "contact change not handed to the journeys", slog.Any("contact_ids", ids), slog.Any("error", err))
	}
}
