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

// compareRow is one row of the comparison page: a metric, read from the
// typed metrics, and how it is shown.
type compareRow struct {
	Name  string
	value func(campaigns.Metrics) string
}

// Show is the row's value in m.
func (r compareRow) Show(m campaigns.Metrics) string { return r.value(m) }

func countRow(name string, f func(campaigns.Metrics) int64) compareRow {
	return compareRow{name, func(m campaigns.Metrics) string { return strconv.FormatInt(f(m), 10) }}
}

func rateRow(name string, f func(campaigns.Metrics) float64) compareRow {
	return compareRow{name, func(m campaigns.Metrics) string { return strconv.FormatFloat(100*f(m), 'f', 1, 64) + "%" }}
}

// moneyRow shows an amount in the campaign's reporting currency; with
// others, the revenue in other currencies follows it, apart (never added).
func moneyRow(name string, f func(campaigns.Metrics) float64, others bool) compareRow {
	return compareRow{name, func(m campaigns.Metrics) string {
		s := Money(m.Currency, f(m))
		if o := OtherRevenue(m); others && o != "" {
			s += " · also " + o + " (not added)"
		}
		return s
	}}
}

// compareRows are the comparison page's rows.
var compareRows = []compareRow{
	countRow("sent", func(m campaigns.Metrics) int64 { return m.Sent }),
	countRow("delivered", func(m campaigns.Metrics) int64 { return m.Delivered }),
	countRow("bounced", func(m campaigns.Metrics) int64 { return m.Bounced }),
	countRow("opens", func(m campaigns.Metrics) int64 { return m.Opens }),
	countRow("unique_opens", func(m campaigns.Metrics) int64 { return m.UniqueOpens }),
	countRow("clicks", func(m campaigns.Metrics) int64 { return m.Clicks }),
	countRow("unique_clicks", func(m campaigns.Metrics) int64 { return m.UniqueClicks }),
	countRow("unsubscribes", func(m campaigns.Metrics) int64 { return m.Unsubscribes }),
	countRow("complaints", func(m campaigns.Metrics) int64 { return m.Complaints }),
	countRow("conversions", func(m campaigns.Metrics) int64 { return m.Conversions }),
	moneyRow("revenue", func(m campaigns.Metrics) float64 { return m.Revenue }, true),
	rateRow("open_rate", func(m campaigns.Metrics) float64 { return m.OpenRate }),
	rateRow("ctr", func(m campaigns.Metrics) float64 { return m.CTR }),
	rateRow("ctor", func(m campaigns.Metrics) float64 { return m.CTOR }),
	rateRow("unsubscribe_rate", func(m campaigns.Metrics) float64 { return m.UnsubscribeRate }),
	rateRow("bounce_rate", func(m campaigns.Metrics) float64 { return m.BounceRate }),
	rateRow("conversion_rate", func(m campaigns.Metrics) float64 { return m.ConversionRate }),
	moneyRow("revenue_per_recipient", func(m campaigns.Metrics) float64 { return m.RevenuePerRecipient }, false),
	countRow("total_opens", func(m campaigns.Metrics) int64 { return m.TotalOpens }),
	countRow("total_clicks", func(m campaigns.Metrics) int64 { return m.TotalClicks }),
}
