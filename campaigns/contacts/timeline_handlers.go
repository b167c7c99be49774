package contacts

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/peykar/peykar/internal/httpapi"
)

// listContactEvents is GET /contacts/{id}/events: the contact's events,
// newest first, keyset-paged (?after= the previous page's next), ?type=
// one type.
func (h *handlers) listContactEvents(c echo.Context) error {
	id, err := httpapi.PathID(c, "id")
	if err != nil {
		return err
	}
	limit, err := httpapi.Limit(c, 50, 200)
	if err != nil {
		return err
	}
	items, next, err := ContactEvents(c.Request().Context(), h.deps.Pool, id,
		EventsQuery{Type: strings.TrimSpace(c.QueryParam("type")), After: c.QueryParam("after"), Limit: limit})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, httpapi.List[Transaction]{Items: items, Next: next})
}

// contactTimeline is GET /contacts/{id}/timeline: the contact's events,
// tracking events and deliveries merged, newest first, keyset-paged
// (?after=), ?kind= event, tracking or delivery (repeatable).
func (h *handlers) contactTimeline(c echo.Context) error {
	ctx := c.Request().Context()
	id, err := httpapi.PathID(c, "id")
	if err != nil {
		return err
	}
	limit, err := httpapi.Limit(c, 50, 200)
	if err != nil {
		return err
	}
	if _, err := Get(ctx, h.deps.Pool, id); err != nil {
		return err
	}
	items, next, err := Timeline(ctx, h.deps.Pool, id,
		TimelineQuery{Kinds: c.QueryParams()["kind"], After: c.QueryParam("after"), Limit: limit})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, httpapi.List[TimelineItem]{Items: items, Next: next})
}
