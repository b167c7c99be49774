package contacts

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/peykar/peykar/internal/errs"
)

// Erase removes a person's personal data and keeps the anonymous rest so
// reports stay correct: the email becomes erased-<id>@erased.invalid (an
// address that can never be sent to), name, attributes, tags and consent
// are cleared, the status becomes erased (final: nothing can change it
// back), the contact's transactions lose their attributes and its tracking
// events their IP address and user agent. Stats, deliveries, events and
// transactions stay as anonymous rows. Erasing twice is harmless; an
// unknown contact gives errs.NotFound.
//
// Left as they are: entries of the suppression list (they exist to honour
// an opt-out) and deliveries' diagnostic texts (owned by the engine).
func Erase(ctx context.Context, db interface {
	Begin(ctx context.Context) (pgx.Tx, error)
}, id int64) error {
	return pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE contacts SET email = 'erased-' || id || '@erased.invalid', name = '',
			attributes = '{}', tags = '{}', status = 'erased', consent_source = NULL, consent_at = NULL,
			consent_ip = NULL, updated_at = now() WHERE id = $1`, id)
		if err != nil {
			return fmt.Errorf("erase contact: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return errs.New(errs.NotFound, "no such contact")
		}
		if _, err := tx.Exec(ctx, `UPDATE transactions SET attributes = '{}' WHERE contact_id = $1 AND attributes <> '{}'`, id); err != nil {
			return fmt.Errorf("erase transactions: %w", err)
		}
		// Through the contact's deliveries: events has no contact index (the
		// tracking writer's inserts would pay for it), deliveries has.
		if _, err := tx.Exec(ctx, `UPDATE events SET ip = NULL, user_agent = ''
			WHERE delivery_id IN (SELECT d.id FROM deliveries d WHERE d.contact_id = $1) AND contact_id = $1
			AND (ip IS NOT NULL OR user_agent <> '')`, id); err != nil {
			return fmt.Errorf("erase events: %w", err)
		}
		return nil
	})
}
