package campaigns

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/peykar/peykar/internal/httpapi"
)

// listAnswer is GET /campaigns: the API's keyset list plus the total
// (archived campaigns counted only with ?archived=true, as listed).
type listAnswer struct {
	Items []Campaign `json:"items"`
	Next  string     `json:"next,omitempty"`
	Total int64      `json:"total"`
}

func (s *Service) duplicate(c echo.Context) error {
	id, err := httpapi.PathID(c, "id")
	if err != nil {
		return err
	}
	out, err := s.Duplicate(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, out.withRulesState(s.now()))
}

func (s *Service) delete(c echo.Context) error {
	id, err := httpapi.PathID(c, "id")
	if err != nil {
		return err
	}
	if err := s.Delete(c.Request().Context(), id); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (s *Service) archive(archived bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := httpapi.PathID(c, "id")
		if err != nil {
			return err
		}
		var out Campaign
		if archived {
			out, err = s.Archive(c.Request().Context(), id)
		} else {
			out, err = s.Unarchive(c.Request().Context(), id)
		}
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, out.withRulesState(s.now()))
	}
}
