package topics

import (
	"net/http"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/labstack/echo/v4"

	"github.com/peykar/peykar/internal/errs"
	"github.com/peykar/peykar/internal/httpapi"
)

// Routes registers the topic endpoints on api (/api/v1): create, list,
// get, patch, delete, archive and unarchive.
func Routes(api *echo.Group, pool *pgxpool.Pool) {
	h := &handlers{pool: pool}
	api.POST("/topics", h.create)
	api.GET("/topics", h.list)
	api.GET("/topics/:id", h.get)
	api.PATCH("/topics/:id", h.patch)
	api.DELETE("/topics/:id", h.delete)
	api.POST("/topics/:id/archive", h.archive(true))
	api.POST("/topics/:id/unarchive", h.archive(false))
}

type handlers struct{ pool *pgxpool.Pool }

func (h *handlers) create(c echo.Context) error {
	var in Input
	if err := httpapi.BindJSON(c, &in); err != nil {
		return err
	}
	t, err := Create(c.Request().Context(), h.pool, in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, t)
}

// boolParam reads ?name=true|false (default false).
func boolParam(c echo.Context, name string) (bool, error) {
	switch strings.ToLower(c.QueryParam(name)) {
	case "", "false", "0":
		return false, nil
	case "true", "1":
		return true, nil
	}
	return false, errs.Field(name, "must be true or false")
}

// list serves GET /topics: every topic with its member counts, by name
// (?public=true: public ones only; ?archived=true: archived ones too). A
// deployment has tens of topics, so the list is one page.
func (h *handlers) list(c echo.Context) error {
	public, err := boolParam(c, "public")
	if err != nil {
		return err
	}
	archived, err := boolParam(c, "archived")
	if err != nil {
		return err
	}
	items, err := List(c.Request().Context(), h.pool, public, archived)
	if err != nil {
		return err
	}
	if items == nil {
		items = []Topic{}
	}
	return c.JSON(http.StatusOK, httpapi.List[Topic]{Items: items})
}

func (h *handlers) get(c echo.Context) error {
	id, err := httpapi.PathID(c, "id")
	if err != nil {
		return err
	}
	t, err := Get(c.Request().Context(), h.pool, id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, t)
}

func (h *handlers) patch(c echo.Context) error {
	id, err := httpapi.PathID(c, "id")
	if err != nil {
		return err
	}
	var in Input
	if err := httpapi.BindJSON(c, &in); err != nil {
		return err
	}
	t, err := Update(c.Request().Context(), h.pool, id, in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, t)
}

func (h *handlers) delete(c echo.Context) error {
	id, err := httpapi.PathID(c, "id")
	if err != nil {
		return err
	}
	if err := Delete(c.Request().Context(), h.pool, id); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (h *handlers) archive(archived bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := httpapi.PathID(c, "id")
		if err != nil {
			return err
		}
		t, err := Archive(c.Request().Context(), h.pool, id, archived)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, t)
	}
}
