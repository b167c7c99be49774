package reports

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/peykar/peykar/internal/httpapi"
)

// The live report and comparison pages moved to the admin UI (package web:
// /admin/campaigns/{id}/live and /admin/reports/compare), where they have
// the navigation, the user's language and time zone. Their old URLs under
// the API answer 308 to the new ones, so bookmarks and links keep working;
// the JSON, CSV and stream calls are unchanged.

// Page answers GET /campaigns/:id/report.html with a 308 to the admin
// live report.
func (h *Handler) Page(c echo.Context) error {
	id, err := httpapi.PathID(c, "id")
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusPermanentRedirect, h.cfg.AdminPath+"/campaigns/"+strconv.FormatInt(id, 10)+"/live")
}

// ComparePage answers GET /reports/compare.html?ids=… with a 308 to the
// admin comparison, keeping the query.
func (h *Handler) ComparePage(c echo.Context) error {
	to := h.cfg.AdminPath + "/reports/compare"
	if q := c.Request().URL.RawQuery; q != "" {
		to += "?" + q
	}
	return c.Redirect(http.StatusPermanentRedirect, to)
}
