package topics

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/peykar/peykar/internal/errs"
)

// Status is a contact's state on a topic.
type Status string

// The statuses: only Subscribed receives a topic's campaigns; Pending is a
// signup waiting for its confirmation (double opt-in).
const (
	Subscribed   Status = "subscribed"
	Unsubscribed Status = "unsubscribed"
	Pending      Status = "pending"
)

// Valid reports whether s is one of the statuses.
func (s Status) Valid() bool { return s == Subscribed || s == Unsubscribed || s == Pending }

// SourceKind says through what a consent change came.
type SourceKind string

// The sources of a change. Link is the unsubscribe link of a message (the
// one-click List-Unsubscribe included).
const (
	SourceForm        SourceKind = "form"
	SourceImport      SourceKind = "import"
	SourceAPI         SourceKind = "api"
	SourcePreferences SourceKind = "preferences"
	SourceAdmin       SourceKind = "admin"
	SourceLink        SourceKind = "link"
)

// Valid reports whether k is one of the kinds.
func (k SourceKind) Valid() bool {
	switch k {
	case SourceForm, SourceImport, SourceAPI, SourcePreferences, SourceAdmin, SourceLink:
		return true
	}
	return false
}

// Source is who changed consent and where: Kind always; IP and UserAgent
// where the person acted (a form, the preference page, a link; empty when
// unknown, an unparsable IP is left out rather than refusing the change);
// UserID the admin user (0: none); Detail any small facts worth keeping
// (a form's id, a campaign's id), erased with the personal parts.
type Source struct {
	Kind      SourceKind
	IP        string
	UserAgent string
	UserID    int64
	Detail    map[string]any
}

// maxUserAgentLen bounds a stored user agent.
const maxUserAgentLen = 512

// args returns the source's columns: source, ip, user_agent, user_id,
// detail.
func (s Source) args() ([]any, error) {
	if !s.Kind.Valid() {
		return nil, fmt.Errorf("topics: unknown source kind %q", s.Kind)
	}
	var ip any
	if a, err := netip.ParseAddr(s.IP); err == nil {
		ip = a.Unmap().String()
	}
	ua := s.UserAgent
	if len(ua) > maxUserAgentLen {
		ua = ua[:maxUserAgentLen]
	}
	var user any
	if s.UserID != 0 {
		user = s.UserID
	}
	detail := []byte("{}")
	if len(s.Detail) > 0 {
		b, err := json.Marshal(s.Detail)
		if err != nil {
			return nil, fmt.Errorf("topics: consent detail: %w", err)
		}
		detail = b
	}
	return []any{string(s.Kind), ip, ua, user, detail}, nil
}

// Subscription is a contact's state on one topic (the contact JSON's
// topics items).
type Subscription struct {
	TopicID int64     `json:"id"`
	Name    string    `json:"name"`
	Status  Status    `json:"status"`
	At      time.Time `json:"at"`
	Source  string    `json:"source"`
}

// Set makes contact's status on topic status and appends a consent record
// from src, both in db (the caller's transaction). Setting the status the
// contact already has changes nothing and records nothing; changed reports
// which. Pending → subscribed is recorded as the change "confirmed". An
// unknown contact or topic gives errs.NotFound.
func Set(ctx context.Context, db DBTX, contactID, topicID int64, status Status, src Source) (changed bool, err error) {
	if !status.Valid() {
		return false, errs.Field("status", "must be subscribed, unsubscribed or pending")
	}
	a, err := src.args()
	if err != nil {
		return false, err
	}
	var id int64
	err = db.QueryRow(ctx, queries.Get("set_subscription"), append([]any{contactID, topicID, string(status)}, a...)...).Scan(&id)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return false, nil
	case err != nil:
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == "23503" {
			return false, errs.New(errs.NotFound, "no such contact or topic")
		}
		return false, fmt.Errorf("set contact %d topic %d: %w", contactID, topicID, err)
	}
	return true, nil
}

// ForContact returns a contact's subscriptions, by topic name (archived
// topics included: the person's state on them is still theirs).
func ForContact(ctx context.Context, db DBTX, contactID int64) ([]Subscription, error) {
	rows, err := db.Query(ctx, queries.Get("contact_topics"), contactID)
	if err != nil {
		return nil, fmt.Errorf("contact %d topics: %w", contactID, err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[Subscription])
	if err != nil {
		return nil, fmt.Errorf("contact %d topics: %w", contactID, err)
	}
	return out, nil
}

// SubscribedAmong returns which of contactIDs are subscribed (not pending)
// to at least one of topicIDs: the send-time check of a campaign that
// targets topics, for people who unsubscribed after its launch.
func SubscribedAmong(ctx context.Context, db DBTX, contactIDs, topicIDs []int64) (map[int64]bool, error) {
	out := make(map[int64]bool, len(contactIDs))
	if len(contactIDs) == 0 || len(topicIDs) == 0 {
		return out, nil
	}
	rows, err := db.Query(ctx, queries.Get("subscribed_among"), contactIDs, topicIDs)
	if err != nil {
		return nil, fmt.Errorf("subscribed contacts: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("subscribed contacts: %w", err)
	}
	for _, id := range ids {
		out[id] = true
	}
	return out, nil
}
