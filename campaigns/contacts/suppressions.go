package contacts

import (
	"context"
	"fmt"
	"strings"
	"time"

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
}

// SuppressionInput is the body of POST /suppressions. Kind defaults to
// "domain" when Value has no @ and to "address" otherwise.
type SuppressionInput struct {
	Kind   string `json:"kind"`
	Value  string `json:"value"`
	Reason string `json:"reason"`
}

func (in *SuppressionInput) normalize() error {
	v := strings.TrimSpace(in.Value)
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

// AddSuppression adds an address or domain to the suppression list. An
// existing entry gives errs.Conflict with its id in Details["id"].
func AddSuppression(ctx context.Context, db DBTX, in SuppressionInput) (Suppression, error) {
	if err := in.normalize(); err != nil {
		return Suppression{}, err
	}
	var s Suppression
	err := db.QueryRow(ctx, query("add_suppression"), in.Kind, in.Value, in.Reason).
		Scan(&s.ID, &s.Kind, &s.Value, &s.Reason, &s.CreatedAt)
	if err == nil {
		return s, nil
	}
	var id int64
	if qerr := db.QueryRow(ctx, query("add_suppression_existing"), in.Kind, in.Value).Scan(&id); qerr != nil {
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
		if err := rows.Scan(&s.ID, &s.Kind, &s.Value, &s.Reason, &s.CreatedAt); err != nil {
			return nil, fmt.Errorf("list suppressions: %w", err)
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// DeleteSuppression removes an entry, or gives errs.NotFound.
func DeleteSuppression(ctx context.Context, db DBTX, id int64) error {
	tag, err := db.Exec(ctx, query("delete_suppression"), id)
	if err != nil {
		return fmt.Errorf("delete suppression: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return errs.New(errs.NotFound, "no such suppression")
	}
	return nil
}
