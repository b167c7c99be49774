package contacts

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/peykar/peykar/campaigns/topics"
	"github.com/peykar/peykar/internal/errs"
)

// EventEraser clears what a contact's tracking events hold about the
// person (IP address, user agent) inside the erasing transaction. Package
// tracking owns the events table and implements it (tracking.EventEraser);
// contacts cannot import tracking, which imports contacts.
type EventEraser interface {
	EraseEvents(ctx context.Context, tx pgx.Tx, contactID int64) error
}

// EventEraserFunc adapts a function to EventEraser.
type EventEraserFunc func(ctx context.Context, tx pgx.Tx, contactID int64) error

// EraseEvents implements EventEraser.
func (f EventEraserFunc) EraseEvents(ctx context.Context, tx pgx.Tx, contactID int64) error {
	return f(ctx, tx, contactID)
}

// ErrNoEventEraser is returned by Erase without an EventEraser: erasing a
// person must not leave their IP addresses behind.
var ErrNoEventEraser = errors.New("contacts: erase needs an EventEraser")

// Erase removes a person's personal data and keeps the anonymous rest so
// reports stay correct: the email becomes erased-<id>@erased.invalid (an
// address that can never be sent to), name, attributes, tags and consent
// are cleared, the status becomes erased (final: nothing can change it
// back), the contact's transactions lose their attributes and, through
// events, its tracking events their IP address and user agent. Stats,
// deliveries, events and transactions stay as anonymous rows. Consent
// records keep that consent changed (when, channel, topic, change, source:
// the proof an opt-in or opt-out happened) and lose IP address, user agent
// and detail; subscriptions are dropped (topics.Erase). Erasing twice is
// harmless; an unknown contact gives errs.NotFound; a nil events
// gives ErrNoEventEraser.
//
// Left as they are: entries of the suppression list (they exist to honour
// an opt-out) and deliveries' diagnostic texts (owned by the engine).
func Erase(ctx context.Context, db interface {
	Begin(ctx context.Context) (pgx.Tx, error)
}, events EventEraser, id int64) error {
	if events == nil {
		return ErrNoEventEraser
	}
	return pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, query("erase_contact"), id)
		if err != nil {
			return fmt.Errorf("erase contact: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return errs.New(errs.NotFound, "no such contact")
		}
		if _, err := tx.Exec(ctx, query("erase_transactions"), id); err != nil {
			return fmt.Errorf("erase transactions: %w", err)
		}
		if err := events.EraseEvents(ctx, tx, id); err != nil {
			return fmt.Errorf("erase events: %w", err)
		}
		return topics.Erase(ctx, tx, id)
	})
}
