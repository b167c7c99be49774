package contacts

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/peykar/peykar/internal/errs"
	"github.com/peykar/peykar/internal/safetext"
)

// Suppression kinds.
const (
	SuppressAddress = "address"
	SuppressDomain  = "domain"
)

// Suppression is a manually suppressed address or domain: never sent to,
// whatever a segment says.
type Suppression struct {
	ID        int64     `json:"id"`
	Kind      string    `json:"kind"`
	Value     string    `json:"value"`
	Reason    string    `json:"reason"`
	CreatedAt time.Time `json:"created_at"`
	// Channel is what the suppression holds back: "email", a webhook
	// channel's kind ("sms"), "webhook" (every webhook kind) or "*"
	// (every channel: the suppressions made before channels were separate).
	Channel string `json:"channel"`
}

// SuppressionInput is the body of POST /suppressions. Kind defaults to
// "domain" when Value has no @ and to "address" otherwise; Channel to
// "email".
type SuppressionInput struct {
	Kind    string `json:"kind"`
	Value   string `json:"value"`
	Reason  string `json:"reason"`
	Channel string `json:"channel"`
}

func (in *SuppressionInput) normalize() error {
	v := strings.TrimSpace(in.Value)
	in.Channel = strings.ToLower(strings.TrimSpace(in.Channel))
	if in.Channel == "" {
		in.Channel = ChannelEmail
	}
	if in.Channel != ChannelAll && !ValidChannel(in.Channel) {
		return errs.Field("channel", "must be email, a webhook channel's kind such as sms, webhook (every webhook kind) or *")
	}
	if in.Kind == "" {
		in.Kind = SuppressAddress
		if !strings.Contains(v, "@") || strings.HasPrefix(v, "@") {
			in.Kind = SuppressDomain
		}
	}
	switch in.Kind {
	case SuppressAddress:
		email, err := NormalizeEmail(v)
		if err != nil {
			return errs.Field("value", "is not a valid address")
		}
		in.Value = strings.ToLower(email)
	case SuppressDomain:
		d := strings.ToLower(strings.TrimPrefix(v, "@"))
		if err := checkDomain(d); err != nil {
			return errs.Field("value", "is not a valid domain")
		}
		in.Value = d
	default:
		return errs.Field("kind", "must be address or domain")
	}
	if err := safetext.Text("reason", in.Reason); err != nil {
		return err
	}
	if len(in.Reason) > 1000 {
		in.Reason = in.Reason[:1000]
	}
	return nil
}

// AddSuppression adds an address or domain to the suppression list of a
// channel. An existing entry gives errs.Conflict with its id in
// Details["id"].
func AddSuppression(ctx context.Context, db DBTX, in SuppressionInput) (Suppression, error) {
	if err := in.normalize(); err != nil {
		return Suppression{}, err
	}
	var s Suppression
	err := db.QueryRow(ctx, query("add_suppression"), in.Kind, in.Value, in.Reason, in.Channel).
		Scan(&s.ID, &s.Kind, &s.Value, &s.Reason, &s.CreatedAt, &s.Channel)
	if err == nil {
		return s, nil
	}
	var id int64
	if qerr := db.QueryRow(ctx, query("add_suppression_existing"), in.Kind, in.Value, in.Channel).Scan(&id); qerr != nil {
		return Suppression{}, fmt.Errorf("add suppression: %w", err)
	}
	return Suppression{}, &errs.Error{Code: errs.Conflict, Field: "value", Message: "already suppressed", Details: map[string]any{"id": id}}
}

// ListSuppressions returns up to limit entries with id > after, in id order.
func ListSuppressions(ctx context.Context, db DBTX, after int64, limit int) ([]Suppression, error) {
	rows, err := db.Query(ctx, query("list_suppressions"), after, limit)
	if err != nil {
		return nil, fmt.Errorf("list suppressions: %w", err)
	}
	defer rows.Close()
	out := []Suppression{}
	for rows.Next() {
		var s Suppression
		if err := rows.Scan(&s.ID, &s.Kind, &s.Value, &s.Reason, &s.CreatedAt, &s.Channel); err != nil {
			return nil, fmt.Errorf("list suppressions: %w", err)
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// DeleteSuppression removes an entry, or gives errs.NotFound.
func DeleteSuppression(ctx context.Context, db DBTX, id int64) error {
	_, err := deleteSuppression(ctx, db, id)
	return err
}

// deleteSuppression removes an entry and returns its kind, value and
// channel, or gives errs.NotFound.
func deleteSuppression(ctx context.Context, db DBTX, id int64) (Suppression, error) {
	s := Suppression{ID: id}
	err := db.QueryRow(ctx, query("delete_suppression"), id).Scan(&s.Kind, &s.Value, &s.Channel)
	if errors.Is(err, pgx.ErrNoRows) {
		return s, errs.New(errs.NotFound, "no such suppression")
	}
	if err != nil {
		return s, fmt.Errorf("delete suppression: %w", err)
	}
	return s, nil
}
