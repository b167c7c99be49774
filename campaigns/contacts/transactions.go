package contacts

import (
	"context"
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/peykar/peykar/internal/errs"
	"github.com/peykar/peykar/internal/safetext"
)

// Transaction is a purchase, conversion or custom event posted for a contact.
type Transaction struct {
	ID         int64          `json:"id"`
	ContactID  int64          `json:"contact_id"`
	Type       string         `json:"type"`
	Value      float64        `json:"value"`
	Currency   string         `json:"currency"`
	CampaignID *int64         `json:"campaign_id,omitempty"`
	DeliveryID *int64         `json:"delivery_id,omitempty"`
	Attributes map[string]any `json:"attributes"`
	OccurredAt time.Time      `json:"occurred_at"`
	CreatedAt  time.Time      `json:"created_at"`
	// IdempotencyKey is the key the event was posted with, if any.
	IdempotencyKey string `json:"idempotency_key,omitempty"`
	// Replayed is true when RecordEvent stored nothing because the
	// idempotency key was already used for the same event: the
	// transaction is the one stored then.
	Replayed bool `json:"replayed,omitempty"`
}

// ConversionTypes are the transaction types that count as conversions
// (IsConversion); holdout lift counts them in both groups.
var ConversionTypes = []string{"purchase", "conversion"}

// IsConversion reports whether a transaction type counts as a conversion
// (bumps conversions, revenue and last_purchase_at, and is attributed).
func IsConversion(typ string) bool { return slices.Contains(ConversionTypes, typ) }

// ConversionFunc adapts a function to ConversionRecorder.
type ConversionFunc func(ctx context.Context, tx pgx.Tx, t Transaction) error

// RecordConversion implements ConversionRecorder.
func (f ConversionFunc) RecordConversion(ctx context.Context, tx pgx.Tx, t Transaction) error {
	return f(ctx, tx, t)
}

// EventInput is the body of POST /events: the contact by contact_id or
// email (created when new), and the transaction.
type EventInput struct {
	ContactID  int64          `json:"contact_id"`
	Email      string         `json:"email"`
	Type       string         `json:"type"`
	Value      float64        `json:"value"`
	Currency   string         `json:"currency"`
	CampaignID *int64         `json:"campaign_id"`
	Attributes map[string]any `json:"attributes"`
	OccurredAt *time.Time     `json:"occurred_at"`
	// IdempotencyKey, when set, makes the post safe to retry: the key is
	// stored with the event and a second post with it stores nothing.
	// Keys are global (not per contact).
	IdempotencyKey string `json:"idempotency_key"`
}

var (
	eventType = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,63}$`)
	currency  = regexp.MustCompile(`^[A-Z]{3}$`)
)

func (in *EventInput) validate() error {
	in.Type = strings.TrimSpace(in.Type)
	if !eventType.MatchString(in.Type) {
		return errs.Field("type", "must be 1–64 lower-case letters, digits, _ . or - (e.g. purchase)")
	}
	if math.IsNaN(in.Value) || math.IsInf(in.Value, 0) || math.Abs(in.Value) >= 1e14 {
		return errs.Field("value", "must be a finite amount below 10^14")
	}
	in.Currency = strings.ToUpper(strings.TrimSpace(in.Currency))
	if in.Currency != "" && !currency.MatchString(in.Currency) {
		return errs.Field("currency", "must be a three-letter ISO 4217 code such as EUR")
	}
	if in.ContactID == 0 && strings.TrimSpace(in.Email) == "" {
		return errs.Field("contact_id", "contact_id or email is required")
	}
	if in.ContactID < 0 {
		return errs.Field("contact_id", "must be a contact id")
	}
	if in.Attributes == nil {
		in.Attributes = map[string]any{}
	}
	if err := validateIdempotencyKey(in.IdempotencyKey); err != nil {
		return err
	}
	return safetext.Value("attributes", in.Attributes)
}

// RecordEvent stores a transaction for a contact, creating the contact when
// only a new email is given, updates the contact's stats (a conversion type
// adds to conversions and revenue and moves last_purchase_at), and hands
// conversions to conv (which may be nil), all in one transaction. It
// returns the transaction, with the campaign and delivery conv attributed
// it to, and whether the contact was created. An unknown
// contact_id or campaign_id gives errs.Invalid; an erased contact
// errs.Conflict.
//
// With in.IdempotencyKey set, the event is stored at most once: when the
// key is already stored with the same body, RecordEvent stores and changes
// nothing and returns that event with Replayed set (created is false); a
// key stored with a different body gives errs.Invalid naming the key.
// Concurrent posts with one key are decided by a unique index: exactly one
// inserts, the others answer its event.
//
// For hooks (journeys): anything that reacts to a new event belongs after
// the insert, on the path where the row was inserted (before Commit, with
// tx, or after it) — never on the replay paths, which return early, so a
// retried post never triggers anything twice. Historical events loaded by
// ImportEvents do not go through RecordEvent and fire no hook. Each of
// hooks (the journeys) gets a newly stored event in the same transaction;
// a caller loading history passes none.
func RecordEvent(ctx context.Context, db interface {
	Begin(ctx context.Context) (pgx.Tx, error)
}, conv ConversionRecorder, in EventInput, hooks ...EventHook) (Transaction, bool, error) {
	if err := in.validate(); err != nil {
		return Transaction{}, false, err
	}
	var digest string
	if in.IdempotencyKey != "" {
		digest = eventDigest(in)
	}
	tx, err := db.Begin(ctx)
	if err != nil {
		return Transaction{}, false, fmt.Errorf("record event: %w", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	t, created, err := recordIn(ctx, tx, conv, in, digest, hooks)
	if err != nil || t.Replayed {
		return t, false, err // a retry stores nothing and fires no hook
	}
	if err := tx.Commit(ctx); err != nil {
		return t, false, fmt.Errorf("record event: %w", err)
	}
	return t, created, nil
}

// errKeyTaken ends a group of events (EventWriter) when an event's
// idempotency key was stored by a transaction the group did not see: the
// group rolls back and each event is recorded alone (RecordEvent), which
// answers the stored event and undoes nothing of the others.
var errKeyTaken = errors.New("record event: idempotency key stored meanwhile")

// recordIn stores one validated event in tx: the body of RecordEvent. A
// replay (a key stored with the same body) returns the stored event with
// Replayed set and writes nothing.
func recordIn(ctx context.Context, tx pgx.Tx, conv ConversionRecorder, in EventInput, digest string,
	hooks []EventHook) (t Transaction, created bool, err error) {
	if in.IdempotencyKey != "" {
		if t, found, err := storedEvent(ctx, tx, in, digest); err != nil || found {
			return t, false, err
		}
	}
	if in.CampaignID != nil {
		var ok bool
		if err := tx.QueryRow(ctx, query("campaign_exists"), *in.CampaignID).Scan(&ok); err != nil {
			return t, false, fmt.Errorf("record event: %w", err)
		}
		if !ok {
			return t, false, errs.Field("campaign_id", "no such campaign")
		}
	}
	contactID, created, err := eventContact(ctx, tx, in)
	if err != nil {
		return t, false, err
	}
	occurred := time.Now()
	if in.OccurredAt != nil {
		occurred = *in.OccurredAt
	}
	err = tx.QueryRow(ctx, query("insert_transaction"),
		contactID, in.Type, in.Value, in.Currency, in.CampaignID, in.Attributes, occurred, in.IdempotencyKey, digest).
		Scan(&t.ID, &t.ContactID, &t.Type, &t.Value, &t.Currency, &t.CampaignID, &t.DeliveryID, &t.Attributes, &t.OccurredAt, &t.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) && in.IdempotencyKey != "" {
		// A concurrent post with the key committed first: answer its event
		// (this transaction, and any contact it created, rolls back).
		t, found, err := storedEvent(ctx, tx, in, digest)
		if err == nil && !found {
			err = fmt.Errorf("record event: idempotency key %q conflicted but is not stored", in.IdempotencyKey)
		}
		return t, false, err
	}
	if err != nil {
		return t, false, fmt.Errorf("record event: %w", err)
	}
	t.IdempotencyKey = in.IdempotencyKey
	// The event is new: from here on is the place for what reacts to it.
	if err := reactTo(ctx, tx, conv, &t, hooks); err != nil {
		return t, false, err
	}
	return t, created, nil
}

// reactTo runs what reacts to a newly stored event, in its transaction:
// a conversion's stats and attribution, then the hooks (journeys).
func reactTo(ctx context.Context, tx pgx.Tx, conv ConversionRecorder, t *Transaction, hooks []EventHook) error {
	if err := reactConversion(ctx, tx, conv, t); err != nil {
		return err
	}
	for _, h := range hooks {
		if h == nil {
			continue
		}
		if err := h.EventRecorded(ctx, tx, *t); err != nil {
			return fmt.Errorf("record event: journeys: %w", err)
		}
	}
	return nil
}

// reactConversion counts a newly stored conversion in its contact's stats
// and hands it to conv (may be nil), answering the attribution conv made.
// Other types are left alone.
func reactConversion(ctx context.Context, tx pgx.Tx, conv ConversionRecorder, t *Transaction) error {
	if IsConversion(t.Type) {
		if _, err := tx.Exec(ctx, query("bump_conversion_stats"), t.ContactID, t.Value, t.OccurredAt); err != nil {
			return fmt.Errorf("record event: stats: %w", err)
		}
		if conv != nil {
			if err := conv.RecordConversion(ctx, tx, *t); err != nil {
				return fmt.Errorf("record event: attribute: %w", err)
			}
			// The recorder may have attributed it (by a click): answer that.
			if err := tx.QueryRow(ctx, query("transaction_attribution"), t.ID).
				Scan(&t.CampaignID, &t.DeliveryID); err != nil {
				return fmt.Errorf("record event: read attribution: %w", err)
			}
		}
	}
	return nil
}

// eventContact finds (or, for a new email, creates) the event's contact.
func eventContact(ctx context.Context, tx pgx.Tx, in EventInput) (int64, bool, error) {
	if in.ContactID == 0 {
		id, created, err := EnsureByEmail(ctx, tx, in.Email)
		return id, created, err
	}
	var status, email string
	err := tx.QueryRow(ctx, query("lock_event_contact"), in.ContactID).Scan(&status, &email)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, false, errs.Field("contact_id", "no such contact")
	}
	if err != nil {
		return 0, false, fmt.Errorf("record event: %w", err)
	}
	if status == StatusErased {
		return 0, false, errs.New(errs.Conflict, "the contact was erased")
	}
	if in.Email != "" {
		norm, err := NormalizeEmail(in.Email)
		if err != nil {
			return 0, false, err
		}
		if strings.ToLower(norm) != email {
			return 0, false, errs.Field("email", "does not belong to contact %d", in.ContactID)
		}
	}
	return in.ContactID, false, nil
}

// EventsAfter returns up to limit of the contact's events of the given
// types recorded after event afterID, oldest first.
func EventsAfter(ctx context.Context, db DBTX, contactID, afterID int64, types []string, limit int) ([]Transaction, error) {
	rows, err := db.Query(ctx, query("events_after"), contactID, afterID, types, limit)
	if err != nil {
		return nil, fmt.Errorf("events after: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Transaction, error) {
		var t Transaction
		return t, r.Scan(&t.ID, &t.ContactID, &t.Type, &t.Value, &t.Currency, &t.CampaignID, &t.DeliveryID, &t.Attributes, &t.OccurredAt, &t.CreatedAt)
	})
	if err != nil {
		return nil, fmt.Errorf("events after: %w", err)
	}
	return out, nil
}
