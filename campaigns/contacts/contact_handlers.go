package contacts

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/peykar/peykar/campaigns/topics"
	"github.com/peykar/peykar/internal/errs"
	"github.com/peykar/peykar/internal/httpapi"
)

func (h *handlers) createContact(c echo.Context) error {
	var in ContactInput
	if err := httpapi.BindJSON(c, &in); err != nil {
		return err
	}
	if in.Status == StatusErased {
		return errs.Field("status", "cannot be set to erased; DELETE the contact")
	}
	ct, err := Create(c.Request().Context(), h.deps.Pool, in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, ct)
}

func (h *handlers) getContact(c echo.Context) error {
	id, err := httpapi.PathID(c, "id")
	if err != nil {
		return err
	}
	ct, err := Get(c.Request().Context(), h.deps.Pool, id)
	if err != nil {
		return err
	}
	if ct.Topics, err = topics.ForContact(c.Request().Context(), h.deps.Pool, id); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, ct)
}

func (h *handlers) updateContact(c echo.Context) error {
	id, err := httpapi.PathID(c, "id")
	if err != nil {
		return err
	}
	var in ContactInput
	if err := httpapi.BindJSON(c, &in); err != nil {
		return err
	}
	ct, err := Update(c.Request().Context(), h.deps.Pool, id, in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, ct)
}

func (h *handlers) listContacts(c echo.Context) error {
	ctx := c.Request().Context()
	limit, err := httpapi.Limit(c, 50, 500)
	if err != nil {
		return err
	}
	a, err := after(c)
	if err != nil {
		return err
	}
	q := ListQuery{Q: c.QueryParam("q"), After: a, Limit: limit}
	if s := c.QueryParam("segment_id"); s != "" {
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil || id <= 0 {
			return errs.Field("segment_id", "must be a segment id")
		}
		if h.deps.Segments == nil {
			return errs.Field("segment_id", "segments are not available here")
		}
		if q.Segment, err = h.deps.Segments(ctx, h.deps.Pool, id); err != nil {
			if errs.Is(err, errs.NotFound) {
				return errs.Field("segment_id", "no such segment")
			}
			return err
		}
	}
	items, err := List(ctx, h.deps.Pool, q)
	if err != nil {
		return err
	}
	out := httpapi.List[Contact]{Items: items}
	if len(items) == limit {
		out.Next = strconv.FormatInt(items[len(items)-1].ID, 10)
	}
	return c.JSON(http.StatusOK, out)
}

func (h *handlers) patchContact(c echo.Context) error {
	id, err := httpapi.PathID(c, "id")
	if err != nil {
		return err
	}
	var in ContactPatch
	if err := httpapi.BindJSON(c, &in); err != nil {
		return err
	}
	in.Source = h.actor(c)
	ct, err := Patch(c.Request().Context(), h.deps.Pool, id, in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, ct)
}
