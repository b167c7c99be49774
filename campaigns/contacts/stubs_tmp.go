package contacts

import (
	"time"

	"github.com/labstack/echo/v4"
)

// Transaction is a purchase or custom event posted for a contact.
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
}

func (h *handlers) postEvent(c echo.Context) error     { return echo.ErrNotImplemented }
func (h *handlers) eraseContact(c echo.Context) error  { return echo.ErrNotImplemented }
func (h *handlers) exportContact(c echo.Context) error { return echo.ErrNotImplemented }
