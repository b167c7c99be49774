package topics

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/peykar/peykar/internal/errs"
)

// Channel-level changes a Consent records (a topic's changes are recorded
// by Set with its status, or "confirmed").
const (
	ChangeSuppressed   = "suppressed"
	ChangeUnsuppressed = "unsuppressed"
	ChangeConfirmed    = "confirmed"
	ChangeSubscribed   = "subscribed"
	ChangeUnsubscribed = "unsubscribed"
	ChangePending      = "pending"
)

// ChannelEmail is the email channel; webhook channels are named by their
// kind (e.g. "sms").
const ChannelEmail = "email"

var (
	channelName = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,31}$`)
	changeName  = regexp.MustCompile(`^[a-z_]{1,32}$`)
)

// Consent is one change to record with Record: on a channel ("email",
// "sms", …), optionally about a topic (0: none), what changed (one of the
// Change* names, or another lower-case word), and who changed it.
type Consent struct {
	Channel string
	TopicID int64
	Change  string
	Source  Source
}

// Record appends a consent record for contact in db (the caller's
// transaction). A malformed channel or change is errs.Invalid; an unknown
// contact or topic errs.NotFound.
func Record(ctx context.Context, db DBTX, contactID int64, c Consent) error {
	if !channelName.MatchString(c.Channel) {
		return errs.Field("channel", "must be a lower-case channel name such as email or sms")
	}
	if !changeName.MatchString(c.Change) {
		return errs.Field("change", "must be a lower-case word such as suppressed")
	}
	a, err := c.Source.args()
	if err != nil {
		return err
	}
	var topic any
	if c.TopicID != 0 {
		topic = c.TopicID
	}
	var id int64
	err = db.QueryRow(ctx, queries.Get("record_consent"), append([]any{contactID, c.Channel, topic, c.Change}, a...)...).Scan(&id)
	if err != nil {
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == "23503" {
			return errs.New(errs.NotFound, "no such contact or topic")
		}
		return fmt.Errorf("record consent of contact %d: %w", contactID, err)
	}
	return nil
}

// ConsentRecord is one consent record as the API shows it (GET
// /contacts/{id}/consent). IP is nil when unknown or erased.
type ConsentRecord struct {
	ID        int64          `json:"id"`
	At        time.Time      `json:"at"`
	Channel   string         `json:"channel"`
	TopicID   *int64         `json:"topic_id"`
	Change    string         `json:"change"`
	Source    string         `json:"source"`
	IP        *string        `json:"ip"`
	UserAgent string         `json:"user_agent"`
	UserID    *int64         `json:"user_id,omitempty"`
	Detail    map[string]any `json:"detail,omitempty"`
}

// MaxHistory bounds one page of History.
const MaxHistory = 500

// History returns a contact's consent records, newest first: after is the
// id of the last record of the previous page (0: from the newest), limit
// is capped at MaxHistory.
func History(ctx context.Context, db DBTX, contactID, after int64, limit int) ([]ConsentRecord, error) {
	if limit <= 0 || limit > MaxHistory {
		limit = MaxHistory
	}
	rows, err := db.Query(ctx, queries.Get("consent_history"), contactID, after, limit)
	if err != nil {
		return nil, fmt.Errorf("consent history of contact %d: %w", contactID, err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (ConsentRecord, error) {
		var r ConsentRecord
		err := row.Scan(&r.ID, &r.At, &r.Channel, &r.TopicID, &r.Change, &r.Source, &r.IP, &r.UserAgent, &r.UserID, &r.Detail)
		if len(r.Detail) == 0 {
			r.Detail = nil
		}
		return r, err
	})
	if err != nil {
		return nil, fmt.Errorf("consent history of contact %d: %w", contactID, err)
	}
	return out, nil
}

// Erase is a contact's erasure, in the erasing transaction: its consent
// records keep when, on which channel and topic, what changed and through
// what kind of source (the proof that consent was given or withdrawn,
// which the controller may keep), and lose the IP address, user agent and
// detail (where and how the person acted); its subscriptions are dropped.
func Erase(ctx context.Context, db DBTX, contactID int64) error {
	if _, err := db.Exec(ctx, queries.Get("erase_consent"), contactID); err != nil {
		return fmt.Errorf("erase consent of contact %d: %w", contactID, err)
	}
	if _, err := db.Exec(ctx, queries.Get("erase_subscriptions"), contactID); err != nil {
		return fmt.Errorf("erase subscriptions of contact %d: %w", contactID, err)
	}
	return nil
}
