package tracking

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// EventEraser clears the personal data of a contact's events (IP address,
// user agent) for contacts.Erase, which calls it inside its transaction;
// the events stay, anonymous, for reports.
type EventEraser struct{}

// EraseEvents implements contacts.EventEraser.
func (EventEraser) EraseEvents(ctx context.Context, tx pgx.Tx, contactID int64) error {
	return EraseContactEvents(ctx, tx, contactID)
}

// EraseContactEvents clears the IP address and user agent of contactID's
// events, those still waiting in event_inbox included, in db.
func EraseContactEvents(ctx context.Context, db DBTX, contactID int64) error {
	if _, err := db.Exec(ctx, query("erase_contact_events"), contactID); err != nil {
		return fmt.Errorf("erase events: %w", err)
	}
	if _, err := db.Exec(ctx, query("erase_contact_inbox"), contactID); err != nil {
		return fmt.Errorf("erase events waiting to be folded: %w", err)
	}
	return nil
}
