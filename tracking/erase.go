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
// events, in db.
func EraseContactEvents(ctx context.Context, db DBTX, contactID int64) error {
	// Through the contact's deliveries: events has no contact index (the
	// tracking writer's inserts would pay for it), deliveries has.
	if _, err := db.Exec(ctx, `UPDATE events SET ip = NULL, user_agent = ''
		WHERE delivery_id IN (SELECT d.id FROM deliveries d WHERE d.contact_id = $1) AND contact_id = $1
		AND (ip IS NOT NULL OR user_agent <> '')`, contactID); err != nil {
		return fmt.Errorf("erase events: %w", err)
	}
	return nil
}
