package contacts

import (
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/peykar/peykar/campaigns/topics"
	"github.com/peykar/peykar/internal/errs"
)

// Contact statuses. Every status but Active keeps the contact from being sent
// to; Erased is set by erasure and is final.
const (
	StatusActive       = "active"
	StatusUnsubscribed = "unsubscribed"
	StatusBounced      = "bounced"
	StatusComplained   = "complained"
	StatusErased       = "erased"
)

// statusRank orders statuses so that suppression never downgrades: a status
// only ever moves to a higher rank (erasure is the highest).
var statusRank = map[string]int{
	StatusActive: 0, StatusUnsubscribed: 1, StatusBounced: 2, StatusComplained: 3, StatusErased: 4,
}

// Contact is a person's profile.
type Contact struct {
	ID         int64          `json:"id"`
	Email      string         `json:"email"`
	Name       string         `json:"name"`
	Attributes map[string]any `json:"attributes"`
	Tags       []string       `json:"tags"`
	Status     string         `json:"status"`
	Consent    *Consent       `json:"consent,omitempty"`
	CreatedAt  time.Time      `json:"created_at"`
	UpdatedAt  time.Time      `json:"updated_at"`
	Stats      Stats          `json:"stats"`
	// Topics are the contact's subscriptions: filled by GET and PATCH of
	// one contact (and the profile page), absent from lists.
	Topics []topics.Subscription `json:"topics,omitempty"`
}

// Consent records how and when a contact agreed to receive mail.
type Consent struct {
	Source string     `json:"source"`
	At     *time.Time `json:"at,omitempty"`
	IP     string     `json:"ip,omitempty"`
}

// Stats are a contact's behavioural counters, kept current by the sending
// engine, tracking and the events API.
type Stats struct {
	Sent           int        `json:"sent"`
	Opens          int        `json:"opens"`
	Clicks         int        `json:"clicks"`
	Conversions    int        `json:"conversions"`
	Revenue        float64    `json:"revenue"`
	LastOpenAt     *time.Time `json:"last_open_at"`
	LastClickAt    *time.Time `json:"last_click_at"`
	LastPurchaseAt *time.Time `json:"last_purchase_at"`
}

// contactColumns is the select list scanContact reads, for a contacts row
// aliased c left-joined to its contact_stats row aliased s (the counters
// written per message and per event live there, off the wide contacts row
// so their updates stay HOT; no row reads as zero counts).
const contactColumns = `c.id, c.email, c.name, c.attributes, c.tags, c.status,
	c.consent_source, c.consent_at, host(c.consent_ip), c.created_at, c.updated_at,
	COALESCE(s.sent, 0), COALESCE(s.opens, 0), COALESCE(s.clicks, 0), c.conversions, c.revenue::float8,
	s.last_open_at, s.last_click_at, c.last_purchase_at`

// scanContact reads contactColumns, plus any extra destinations after them.
func scanContact(row pgx.Row, extra ...any) (Contact, error) {
	var c Contact
	var src, ip *string
	var at *time.Time
	dest := []any{&c.ID, &c.Email, &c.Name, &c.Attributes, &c.Tags, &c.Status,
		&src, &at, &ip, &c.CreatedAt, &c.UpdatedAt,
		&c.Stats.Sent, &c.Stats.Opens, &c.Stats.Clicks, &c.Stats.Conversions, &c.Stats.Revenue,
		&c.Stats.LastOpenAt, &c.Stats.LastClickAt, &c.Stats.LastPurchaseAt}
	if err := row.Scan(append(dest, extra...)...); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return c, errs.New(errs.NotFound, "no such contact")
		}
		return c, fmt.Errorf("scan contact: %w", err)
	}
	if src != nil || at != nil || ip != nil {
		c.Consent = &Consent{At: at}
		if src != nil {
			c.Consent.Source = *src
		}
		if ip != nil {
			c.Consent.IP = *ip
		}
	}
	if c.Attributes == nil {
		c.Attributes = map[string]any{}
	}
	if c.Tags == nil {
		c.Tags = []string{}
	}
	return c, nil
}
