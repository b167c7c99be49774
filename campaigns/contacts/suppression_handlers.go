package contacts

import (
	"net/http"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/labstack/echo/v4"

	"github.com/peykar/peykar/internal/httpapi"
)

func (h *handlers) listSuppressions(c echo.Context) error {
	limit, err := httpapi.Limit(c, 50, 500)
	if err != nil {
		return err
	}
	a, err := after(c)
	if err != nil {
		return err
	}
	items, err := ListSuppressions(c.Request().Context(), h.deps.Pool, a, limit)
	if err != nil {
		return err
	}
	out := httpapi.List[Suppression]{Items: items}
	if len(items) == limit {
		out.Next = strconv.FormatInt(items[len(items)-1].ID, 10)
	}
	return c.JSON(http.StatusOK, out)
}

func (h *handlers) addSuppression(c echo.Context) error {
	var in SuppressionInput
	if err := httpapi.BindJSON(c, &in); err != nil {
		return err
	}
	var s Suppression
	err := pgx.BeginFunc(c.Request().Context(), h.deps.Pool, func(tx pgx.Tx) error {
		var err error
		s, err = SuppressChannel(c.Request().Context(), tx, in, h.actor(c))
		return err
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, s)
}

func (h *handlers) deleteSuppression(c echo.Context) error {
	id, err := httpapi.PathID(c, "id")
	if err != nil {
		return err
	}
	err = pgx.BeginFunc(c.Request().Context(), h.deps.Pool, func(tx pgx.Tx) error {
		return LiftSuppression(c.Request().Context(), tx, id, h.actor(c))
	})
	if err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
