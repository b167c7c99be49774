package messages

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/peykar/peykar/internal/errs"
	"github.com/peykar/peykar/internal/sqlq"
)

// DBTX is a *pgxpool.Pool, a *pgx.Conn or a pgx.Tx.
type DBTX interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

//go:embed queries.sql
var queriesFS embed.FS

var queries = sqlq.MustLoad(queriesFS)

// Statuses of a message.
const (
	StatusQueued     = "queued"
	StatusSent       = "sent"
	StatusFailed     = "failed"
	StatusBounced    = "bounced"
	StatusSuppressed = "suppressed"
)

// KeyTTL is how long an Idempotency-Key is held: the same key within it
// gets the first answer.
const KeyTTL = 24 * time.Hour

// Message is a stored transactional message.
type Message struct {
	ID         int64 `json:"id"`
	TemplateID int64 `json:"template_id"`
	CampaignID int64 `json:"campaign_id"`
	// ContactID is nil once the contact is erased.
	ContactID *int64 `json:"contact_id"`
	// ContactCreated: the request's "to" created the contact.
	ContactCreated bool           `json:"contact_created"`
	DeliveryID     *int64         `json:"delivery_id"`
	Data           map[string]any `json:"-"`
	Transactional  bool           `json:"transactional"`
	Status         string         `json:"status"`
	// Detail says why a message was suppressed or failed, or the mail
	// server's acceptance.
	Detail    string    `json:"detail,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// newRow is a message to insert.
type newRow struct {
	id             int64
	deliveryID     int64
	key            *string
	hash           []byte
	templateID     int64
	campaignID     int64
	contactID      int64
	contactCreated bool
	data           map[string]any
	transactional  bool
	at             time.Time
}

// insert stores a message, or answers 0 when its key is held by another
// message (committed: a concurrent holder is waited for).
func insert(ctx context.Context, db DBTX, r newRow) (int64, error) {
	data, err := json.Marshal(r.data)
	if err != nil {
		return 0, fmt.Errorf("message data: %w", err)
	}
	if r.data == nil {
		data = []byte("{}")
	}
	var id int64
	err = db.QueryRow(ctx, queries.Get("insert"), r.id, r.key, r.hash, r.templateID, r.campaignID, r.contactID,
		r.contactCreated, data, r.transactional, r.deliveryID, r.at).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("insert message: %w", err)
	}
	return id, nil
}

// releaseKey lets go of key when it was taken before oldest, and says
// whether it did.
func releaseKey(ctx context.Context, db DBTX, key string, oldest time.Time) (bool, error) {
	tag, err := db.Exec(ctx, queries.Get("release_key"), key, oldest)
	if err != nil {
		return false, fmt.Errorf("release idempotency key: %w", err)
	}
	return tag.RowsAffected() > 0, nil
}

// byKey finds the message holding key.
func byKey(ctx context.Context, db DBTX, key string) (id int64, hash []byte, err error) {
	err = db.QueryRow(ctx, queries.Get("by_key"), key).Scan(&id, &hash)
	if err != nil {
		return 0, nil, fmt.Errorf("message by idempotency key: %w", err)
	}
	return id, hash, nil
}

// nextID takes a new message's id.
func nextID(ctx context.Context, db DBTX) (int64, error) {
	var id int64
	if err := db.QueryRow(ctx, queries.Get("next_id")).Scan(&id); err != nil {
		return 0, fmt.Errorf("message id: %w", err)
	}
	return id, nil
}

// Get returns message id. It fails with errs.NotFound.
func Get(ctx context.Context, db DBTX, id int64) (Message, error) {
	var m Message
	var data []byte
	err := db.QueryRow(ctx, queries.Get("get"), id).Scan(&m.ID, &m.TemplateID, &m.CampaignID, &m.ContactID,
		&m.ContactCreated, &m.DeliveryID, &data, &m.Transactional, &m.Status, &m.Detail, &m.CreatedAt, &m.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return m, errs.New(errs.NotFound, "no message %d", id)
	}
	if err != nil {
		return m, fmt.Errorf("get message %d: %w", id, err)
	}
	if err := json.Unmarshal(data, &m.Data); err != nil {
		return m, fmt.Errorf("message %d data: %w", id, err)
	}
	return m, nil
}

// Outcome is a message's final (or retried) state to record.
type Outcome struct {
	ID     int64
	Status string
	Detail string
}

// Finish records messages' outcomes at at, in the transaction that records
// their deliveries'.
func Finish(ctx context.Context, db DBTX, outs []Outcome, at time.Time) error {
	if len(outs) == 0 {
		return nil
	}
	ids := make([]int64, len(outs))
	statuses := make([]string, len(outs))
	details := make([]string, len(outs))
	for i, o := range outs {
		ids[i], statuses[i], details[i] = o.ID, o.Status, o.Detail
	}
	if _, err := db.Exec(ctx, queries.Get("finish"), ids, statuses, details, at); err != nil {
		return fmt.Errorf("record message outcomes: %w", err)
	}
	return nil
}

// ExpireKeys releases up to limit idempotency keys taken before now minus
// KeyTTL and returns how many it released.
func ExpireKeys(ctx context.Context, db DBTX, now time.Time, limit int) (int64, error) {
	tag, err := db.Exec(ctx, queries.Get("expire_keys"), now.Add(-KeyTTL), limit)
	if err != nil {
		return 0, fmt.Errorf("expire idempotency keys: %w", err)
	}
	return tag.RowsAffected(), nil
}
