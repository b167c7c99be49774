package reports

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/peykar/peykar/campaigns"
	"github.com/peykar/peykar/internal/errs"
)

// maxCompare bounds how many campaigns one comparison reads.
const maxCompare = 20

// Comparison is the reports of several campaigns, side by side.
type Comparison struct {
	Items []campaigns.Report `json:"items"`
}

// compareIDs reads ?ids=1,2,3.
func compareIDs(c echo.Context) ([]int64, error) {
	raw := strings.TrimSpace(c.QueryParam("ids"))
	if raw == "" {
		return nil, errs.Field("ids", "is required: a comma-separated list of campaign ids")
	}
	parts := strings.Split(raw, ",")
	if len(parts) > maxCompare {
		return nil, errs.Field("ids", "at most %d campaigns can be compared", maxCompare)
	}
	seen := map[int64]bool{}
	var ids []int64
	for i, p := range parts {
		id, err := strconv.ParseInt(strings.TrimSpace(p), 10, 64)
		if err != nil || id <= 0 {
			return nil, &errs.Error{Code: errs.Invalid, Field: "ids", Position: i + 1, Message: "\"" + p + "\" is not a campaign id"}
		}
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	return ids, nil
}

func (h *Handler) compare(ctx context.Context, ids []int64) (Comparison, error) {
	out := Comparison{Items: make([]campaigns.Report, 0, len(ids))}
	for _, id := range ids {
		r, err := h.cfg.Report(ctx, id)
		if err != nil {
			return out, err
		}
		out.Items = append(out.Items, r)
	}
	return out, nil
}

// Compare is GET /reports/compare?ids=1,2,3: the campaigns' reports in
// the order asked.
func (h *Handler) Compare(c echo.Context) error {
	ids, err := compareIDs(c)
	if err != nil {
		return err
	}
	out, err := h.compare(c.Request().Context(), ids)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}
