package contacts

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/peykar/peykar/internal/httpapi"
)

// postEvent stores the event with concurrent posts (EventWriter) and
// answers the stored transaction with its attribution: the
// campaign (and delivery) it was given or that the click attribution found.
// A new event answers 202; a retry with an idempotency_key already stored
// for the same body answers 200 with the first event (same id, "replayed":
// true) and stores nothing.
func (h *handlers) postEvent(c echo.Context) error {
	var in EventInput
	if err := httpapi.BindJSON(c, &in); err != nil {
		return err
	}
	t, created, err := h.deps.EventWriter.Record(c.Request().Context(), in)
	if err != nil {
		return err
	}
	status := http.StatusAccepted
	if t.Replayed {
		status = http.StatusOK
	}
	body := map[string]any{"id": t.ID, "contact_id": t.ContactID, "contact_created": created,
		"type": t.Type, "value": t.Value, "currency": t.Currency, "campaign_id": t.CampaignID, "delivery_id": t.DeliveryID,
		"replayed": t.Replayed}
	if t.IdempotencyKey != "" {
		body["idempotency_key"] = t.IdempotencyKey
	}
	return c.JSON(status, body)
}

func (h *handlers) eraseContact(c echo.Context) error {
	id, err := httpapi.PathID(c, "id")
	if err != nil {
		return err
	}
	if err := Erase(c.Request().Context(), h.deps.Pool, h.deps.Events, id); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (h *handlers) exportContact(c echo.Context) error {
	ctx := c.Request().Context()
	id, err := httpapi.PathID(c, "id")
	if err != nil {
		return err
	}
	if _, err := Get(ctx, h.deps.Pool, id); err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
	c.Response().Header().Set("Content-Disposition", `attachment; filename="contact-export.json"`)
	c.Response().WriteHeader(http.StatusOK)
	return Export(ctx, h.deps.Pool, id, c.Response())
}
