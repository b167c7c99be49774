package contacts

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/peykar/peykar/internal/httpapi"
)

// postEvent answers the stored transaction with its attribution: the
// campaign (and delivery) it was given or that the click attribution found.
func (h *handlers) postEvent(c echo.Context) error {
	var in EventInput
	if err := httpapi.BindJSON(c, &in); err != nil {
		return err
	}
	t, created, err := RecordEvent(c.Request().Context(), h.deps.Pool, h.deps.Conversions, in, h.deps.Journeys)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusAccepted, map[string]any{"id": t.ID, "contact_id": t.ContactID, "contact_created": created,
		"type": t.Type, "value": t.Value, "currency": t.Currency, "campaign_id": t.CampaignID, "delivery_id": t.DeliveryID})
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
