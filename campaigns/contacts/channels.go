package contacts

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/peykar/peykar/campaigns/topics"
)

// The channels a suppression can name. A webhook campaign's channel is its
// kind (settings.webhook.kind, such as "sms"); ChannelWebhook suppresses
// every webhook kind and ChannelAll every channel.
const (
	ChannelEmail   = topics.ChannelEmail
	ChannelWebhook = "webhook"
	ChannelAll     = "*"
)

var channelRe = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,31}$`)

// ValidChannel reports whether name is a channel's name: email, webhook or
// a webhook kind (1–32 lower-case letters, digits, '-' or '_', a letter
// first).
func ValidChannel(name string) bool { return channelRe.MatchString(name) }

// holding returns the suppression channels that hold channel back: email
// is held by email and * suppressions; a webhook kind by its own, by
// webhook (every kind) and by *.
func holding(channel string) []string {
	if channel == ChannelEmail {
		return []string{ChannelEmail, ChannelAll}
	}
	if channel == ChannelWebhook {
		return []string{ChannelWebhook, ChannelAll}
	}
	return []string{channel, ChannelWebhook, ChannelAll}
}

// SendableOn returns which of ids may be sent to on channel now. On email:
// status active and neither address nor domain suppressed on email (or *).
// On a webhook kind the status is the email channel's and does not count
// (only erasure does, and a pending signup, whose consent is unconfirmed on
// every channel): neither address nor domain may be suppressed on
// that kind, on webhook or on *.
func SendableOn(ctx context.Context, db DBTX, channel string, ids []int64) (map[int64]bool, error) {
	out := make(map[int64]bool, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := db.Query(ctx, query("sendable_on"), ids, channel == ChannelEmail, holding(channel))
	if err != nil {
		return nil, fmt.Errorf("sendable on %s: %w", channel, err)
	}
	var id int64
	_, err = pgx.ForEachRow(rows, []any{&id}, func() error {
		out[id] = true
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sendable on %s: %w", channel, err)
	}
	return out, nil
}

// IsSendableOn is SendableOn for one contact.
func IsSendableOn(ctx context.Context, db DBTX, channel string, id int64) (bool, error) {
	m, err := SendableOn(ctx, db, channel, []int64{id})
	return m[id], err
}

// ChannelState is a contact's state on one channel, as its profile shows
// it: email's is the contact's status and suppressions; another channel's
// its suppressions alone.
type ChannelState struct {
	Channel string `json:"channel"`
	// Sendable: nothing holds the contact back on the channel.
	Sendable bool `json:"sendable"`
	// Status is the contact's status (email only).
	Status       string        `json:"status,omitempty"`
	Suppressions []Suppression `json:"suppressions"`
}

// ChannelStates returns the contact's state on email, on every channel of
// known (the channels campaigns send on) and on every other channel that
// has a suppression of its address or domain (webhook and * included, as
// they are named).
func ChannelStates(ctx context.Context, db DBTX, contactID int64, known ...string) ([]ChannelState, error) {
	c, err := Get(ctx, db, contactID)
	if err != nil {
		return nil, err
	}
	rows, err := db.Query(ctx, query("contact_channel_suppressions"), contactID)
	if err != nil {
		return nil, fmt.Errorf("channel states: %w", err)
	}
	all, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Suppression, error) {
		var s Suppression
		err := row.Scan(&s.ID, &s.Kind, &s.Value, &s.Reason, &s.CreatedAt, &s.Channel)
		return s, err
	})
	if err != nil {
		return nil, fmt.Errorf("channel states: %w", err)
	}
	email := ChannelState{Channel: ChannelEmail, Status: c.Status, Suppressions: []Suppression{}}
	out := []ChannelState{}
	byChannel := map[string]int{}
	for _, k := range known {
		if _, ok := byChannel[k]; ok || k == ChannelEmail {
			continue
		}
		byChannel[k] = len(out)
		out = append(out, ChannelState{Channel: k, Suppressions: []Suppression{}})
	}
	for _, s := range all {
		if s.Channel == ChannelEmail || s.Channel == ChannelAll {
			email.Suppressions = append(email.Suppressions, s)
		}
		if s.Channel == ChannelEmail {
			continue
		}
		i, ok := byChannel[s.Channel]
		if !ok {
			i = len(out)
			byChannel[s.Channel] = i
			out = append(out, ChannelState{Channel: s.Channel, Suppressions: []Suppression{}})
		}
		out[i].Suppressions = append(out[i].Suppressions, s)
	}
	email.Sendable = c.Status == StatusActive && len(email.Suppressions) == 0
	for i := range out {
		// What holds a webhook kind back: its own, webhook's and *'s
		// suppressions (holding); a pending signup holds every channel.
		held := false
		for _, s := range all {
			if slices.Contains(holding(out[i].Channel), s.Channel) {
				held = true
			}
		}
		out[i].Sendable = c.Status != StatusErased && c.Status != StatusPending && !held
	}
	return append([]ChannelState{email}, out...), nil
}

// SuppressChannel adds a suppression (SuppressionInput) and, when it is an
// address that names a contact, records the change as that contact's
// consent on the channel, from src, in the same transaction db should be.
func SuppressChannel(ctx context.Context, db DBTX, in SuppressionInput, src topics.Source) (Suppression, error) {
	s, err := AddSuppression(ctx, db, in)
	if err != nil {
		return s, err
	}
	return s, recordChannelConsent(ctx, db, s, topics.ChangeSuppressed, src)
}

// LiftSuppression deletes a suppression and records the change as consent,
// like SuppressChannel.
func LiftSuppression(ctx context.Context, db DBTX, id int64, src topics.Source) error {
	s, err := deleteSuppression(ctx, db, id)
	if err != nil {
		return err
	}
	return recordChannelConsent(ctx, db, s, topics.ChangeUnsuppressed, src)
}

// recordChannelConsent records change on s's channel for the contact its
// address names; nothing for a domain, a "*" entry or an unknown address.
func recordChannelConsent(ctx context.Context, db DBTX, s Suppression, change string, src topics.Source) error {
	if s.Kind != SuppressAddress || !ValidChannel(s.Channel) {
		return nil
	}
	var id int64
	err := db.QueryRow(ctx, query("contact_id_by_email_key"), s.Value).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("suppression's contact: %w", err)
	}
	if src.Kind == "" {
		src.Kind = topics.SourceAPI
	}
	return topics.Record(ctx, db, id, topics.Consent{Channel: s.Channel, Change: change, Source: src})
}
