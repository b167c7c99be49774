package tracking

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/labstack/echo/v4"

	"github.com/peykar/peykar/internal/errs"
	"github.com/peykar/peykar/internal/httpapi"
)

// Bounce types accepted by RecordBounce and the webhook.
const (
	BounceHard      = "hard"
	BounceSoft      = "soft"
	BounceComplaint = "complaint"
)

// BounceReport is an asynchronous bounce or complaint: from the SMTP
// listener (a DSN or ARF report) or a provider's webhook.
type BounceReport struct {
	DeliveryID int64  `json:"delivery_id,omitempty"`
	Email      string `json:"email,omitempty"`
	Type       string `json:"type"`
	Reason     string `json:"reason,omitempty"`
}

// RecordBounce records a bounce or complaint: an event on the delivery (the
// one given, or the contact's latest delivery for an email), the delivery's
// status, rollups and, for hard bounces and complaints, the contact's
// suppression. It returns an *errs.Error for bad input or an unknown
// recipient.
func (s *Service) RecordBounce(ctx context.Context, r BounceReport) error {
	typ := strings.ToLower(strings.TrimSpace(r.Type))
	if typ != BounceHard && typ != BounceSoft && typ != BounceComplaint {
		return errs.Field("type", "must be hard, soft or complaint")
	}
	id := r.DeliveryID
	if id == 0 {
		email := strings.TrimSpace(r.Email)
		if email == "" {
			return errs.Field("email", "email or delivery_id is required")
		}
		var err error
		if id, err = s.latestDelivery(ctx, email); err != nil {
			return err
		}
	}
	ev := Event{Type: TypeBounce, DeliveryID: id, Hard: typ == BounceHard, Reason: typ + ": " + truncate(r.Reason, 1000)}
	if typ == BounceComplaint {
		ev.Type, ev.Reason = TypeComplaint, truncate(r.Reason, 1000)
	}
	_, err := s.Record(ctx, ev)
	switch {
	case errors.Is(err, ErrNotFound):
		return errs.New(errs.NotFound, "no such delivery")
	case err != nil:
		return &errs.Error{Code: errs.Unavailable, Message: "the bounce could not be recorded now; retry", Err: err}
	}
	return nil
}

// latestDelivery is the most recent delivery sent to email; a contact with
// none is suppressed directly when that is all there is to do.
func (s *Service) latestDelivery(ctx context.Context, email string) (int64, error) {
	var id int64
	err := s.cfg.Pool.QueryRow(ctx, query("bounce_delivery"), email).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, errs.New(errs.NotFound, "no delivery to %s", email)
	}
	if err != nil {
		return 0, &errs.Error{Code: errs.Unavailable, Message: "the bounce could not be recorded now; retry", Err: fmt.Errorf("find delivery: %w", err)}
	}
	return id, nil
}

func (s *Service) bounceWebhook(c echo.Context) error {
	var r BounceReport
	if err := httpapi.BindJSON(c, &r); err != nil {
		return err
	}
	if err := s.RecordBounce(c.Request().Context(), r); err != nil {
		return err
	}
	return c.JSON(http.StatusAccepted, map[string]any{"recorded": true})
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
