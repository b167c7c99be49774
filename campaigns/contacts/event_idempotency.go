package contacts

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/jackc/pgx/v5"

	"github.com/peykar/peykar/internal/errs"
)

// maxIdempotencyKey bounds an event's idempotency_key, in bytes.
const maxIdempotencyKey = 255

// validateIdempotencyKey accepts an empty key (none) or up to 255 bytes of
// printable text.
func validateIdempotencyKey(key string) error {
	if len(key) > maxIdempotencyKey {
		return errs.Field("idempotency_key", "must be at most %d characters", maxIdempotencyKey)
	}
	for _, r := range key {
		if !unicode.IsPrint(r) {
			return errs.Field("idempotency_key", "must be printable text without control characters")
		}
	}
	return nil
}

// eventDigest is a digest of what an event says, after validation has
// normalised it: a retry of the same post gives the same digest; any
// change to the contact, type, value, currency, campaign, attributes or
// occurred_at gives another. An event without occurred_at happens "now",
// so its retries still agree.
func eventDigest(in EventInput) string {
	var occurred string
	if in.OccurredAt != nil {
		occurred = in.OccurredAt.UTC().Format(time.RFC3339Nano)
	}
	// encoding/json writes map keys sorted, so equal attributes encode equally.
	raw, err := json.Marshal(struct {
		ContactID  int64          `json:"c"`
		Email      string         `json:"e"`
		Type       string         `json:"t"`
		Value      float64        `json:"v"`
		Currency   string         `json:"cur"`
		CampaignID *int64         `json:"camp"`
		Attributes map[string]any `json:"a"`
		OccurredAt string         `json:"o"`
	}{in.ContactID, strings.ToLower(strings.TrimSpace(in.Email)), in.Type, in.Value, in.Currency,
		in.CampaignID, in.Attributes, occurred})
	if err != nil {
		// Attributes passed safetext.Value, so they encode; keep the key
		// usable anyway: an unencodable body only matches itself by type.
		raw = []byte(in.Type)
	}
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:])
}

// storedEvent reads the event stored under in's idempotency key. found is
// false when there is none; a stored event posted with a different body
// gives errs.Invalid naming the key. A found event has Replayed set.
func storedEvent(ctx context.Context, db DBTX, in EventInput, digest string) (Transaction, bool, error) {
	var t Transaction
	var storedDigest string
	err := db.QueryRow(ctx, query("transaction_by_idempotency_key"), in.IdempotencyKey).
		Scan(&t.ID, &t.ContactID, &t.Type, &t.Value, &t.Currency, &t.CampaignID, &t.DeliveryID,
			&t.Attributes, &t.OccurredAt, &t.CreatedAt, &storedDigest)
	if errors.Is(err, pgx.ErrNoRows) {
		return Transaction{}, false, nil
	}
	if err != nil {
		return Transaction{}, false, fmt.Errorf("record event: idempotency key: %w", err)
	}
	if storedDigest != digest {
		return Transaction{}, false, keyUsedError(in.IdempotencyKey, t.ID)
	}
	t.IdempotencyKey = in.IdempotencyKey
	t.Replayed = true
	return t, true, nil
}

// keyUsedError refuses an event whose idempotency key is stored with
// event id for a different body.
func keyUsedError(key string, id int64) error {
	e := errs.Field("idempotency_key", "%q was already used for a different event (id %d); send the same body to retry it, or use a new key", key, id)
	e.Details = map[string]any{"idempotency_key": key, "event_id": id}
	return e
}
