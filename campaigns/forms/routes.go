package forms

import (
	"io"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/peykar/peykar/internal/errs"
	"github.com/peykar/peykar/internal/httpapi"
	"github.com/peykar/peykar/internal/safetext"
)

// APIRoutes registers the form endpoints on api (/api/v1): create, list,
// get, patch and delete. Every form in an answer carries its public_url
// and embed_html.
func (s *Service) APIRoutes(api *echo.Group) {
	api.POST("/forms", s.apiCreate)
	api.GET("/forms", s.apiList)
	api.GET("/forms/:id", s.apiGet)
	api.PATCH("/forms/:id", s.apiPatch)
	api.DELETE("/forms/:id", s.apiDelete)
}

func (s *Service) answer(c echo.Context, status int, f Form) error {
	if err := s.Decorate(c.Request().Context(), &f); err != nil {
		return err
	}
	return c.JSON(status, f)
}

func (s *Service) apiCreate(c echo.Context) error {
	var in Input
	if err := httpapi.BindJSON(c, &in); err != nil {
		return err
	}
	f, err := Create(c.Request().Context(), s.cfg.Pool, in)
	if err != nil {
		return err
	}
	return s.answer(c, http.StatusCreated, f)
}

// apiList serves GET /forms (?limit=&after=), newest first.
func (s *Service) apiList(c echo.Context) error {
	limit, err := httpapi.Limit(c, 50, MaxList)
	if err != nil {
		return err
	}
	var after int64
	if a := c.QueryParam("after"); a != "" {
		if after, err = strconv.ParseInt(a, 10, 64); err != nil || after <= 0 {
			return errs.Field("after", "must be the next value of the previous page")
		}
	}
	items, err := List(c.Request().Context(), s.cfg.Pool, after, limit)
	if err != nil {
		return err
	}
	out := httpapi.List[Form]{Items: items}
	for i := range out.Items {
		if err := s.Decorate(c.Request().Context(), &out.Items[i]); err != nil {
			return err
		}
	}
	if len(items) == limit {
		out.Next = strconv.FormatInt(items[len(items)-1].ID, 10)
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Service) apiGet(c echo.Context) error {
	id, err := httpapi.PathID(c, "id")
	if err != nil {
		return err
	}
	f, err := Get(c.Request().Context(), s.cfg.Pool, id)
	if err != nil {
		return err
	}
	return s.answer(c, http.StatusOK, f)
}

// apiPatch serves PATCH /forms/{id}: the fields given replace theirs.
func (s *Service) apiPatch(c echo.Context) error {
	id, err := httpapi.PathID(c, "id")
	if err != nil {
		return err
	}
	// Strictly decoded first (unknown fields and NUL bytes refused), then
	// applied onto the form's definition.
	body, err := io.ReadAll(c.Request().Body)
	if err != nil {
		return err
	}
	if err := safetext.JSON(body); err != nil {
		return err
	}
	var probe Input
	if err := strictJSON(body, &probe); err != nil {
		return err
	}
	f, err := Patch(c.Request().Context(), s.cfg.Pool, id, body)
	if err != nil {
		return err
	}
	return s.answer(c, http.StatusOK, f)
}

func (s *Service) apiDelete(c echo.Context) error {
	id, err := httpapi.PathID(c, "id")
	if err != nil {
		return err
	}
	if err := Delete(c.Request().Context(), s.cfg.Pool, id); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
