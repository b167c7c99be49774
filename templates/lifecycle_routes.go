package templates

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/peykar/peykar/internal/errs"
	"github.com/peykar/peykar/internal/httpapi"
)

// listAnswer is GET /templates: the keyset list and the total (archived
// templates counted only with ?archived=true, as listed).
type listAnswer struct {
	Items []Template `json:"items"`
	Next  string     `json:"next,omitempty"`
	Total int64      `json:"total"`
}

// archivedParam reads ?archived=true|false (default false).
func archivedParam(v string) (bool, error) {
	switch strings.ToLower(v) {
	case "", "false", "0":
		return false, nil
	case "true", "1":
		return true, nil
	}
	return false, errs.Field("archived", "must be true or false, not %q", v)
}

func (h handlers) delete(c echo.Context) error {
	id, err := httpapi.PathID(c, "id")
	if err != nil {
		return err
	}
	if err := Delete(c.Request().Context(), h.Pool, id); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (h handlers) archive(archived bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := httpapi.PathID(c, "id")
		if err != nil {
			return err
		}
		t, err := Archive(c.Request().Context(), h.Pool, id, archived)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, withLinks(t))
	}
}
