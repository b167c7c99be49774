package reports

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// Page is the report page.
func (h *Handler) Page(c echo.Context) error { return c.NoContent(http.StatusNotImplemented) }

// ComparePage is the comparison page.
func (h *Handler) ComparePage(c echo.Context) error { return c.NoContent(http.StatusNotImplemented) }

// Asset serves the page assets.
func (h *Handler) Asset(c echo.Context) error { return c.NoContent(http.StatusNotImplemented) }
