package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/peykar/peykar/campaigns"
	"github.com/peykar/peykar/campaigns/reports"
	"github.com/peykar/peykar/internal/errs"
)

// maxCompared bounds the campaigns compared side by side (the compare API
// allows 20).
const maxCompared = 20

func (u *UI) reportRoutes(g *echo.Group) {
	g.GET("/reports", u.reportsPage)
}

// comparedCampaign is one column of the comparison.
type comparedCampaign struct {
	Campaign campaigns.Campaign
	Report   campaigns.Report
}

// reportsPage is the standard report for a date range and optional segment
// (GET from, to, segment_id, as /api/v1/reports/standard takes them) and a
// side-by-side comparison of the campaigns in ?compare=1,2,3 (or one
// compare= per ticked box).
func (u *UI) reportsPage(c echo.Context) error {
	ctx := c.Request().Context()
	d := map[string]any{"From": c.QueryParam("from"), "To": c.QueryParam("to"), "SegmentID": c.QueryParam("segment_id")}
	pd := pageData{Nav: "reports", Data: d}

	std, err := u.standardReport(c)
	if err != nil {
		var de *errs.Error
		if !errors.As(err, &de) {
			return err
		}
		pd.Error = de.Message
		if de.Field != "" {
			pd.Error = de.Field + ": " + de.Message
		}
	} else {
		d["Standard"] = std
		lc := u.locale(c)
		d["From"], d["To"] = lc.DateValue(std.From), lc.DateValue(std.To) // Jalali in Persian
		q := url.Values{"from": {std.From}, "to": {std.To}, "bom": {"1"}} // bom: Excel reads Persian right
		if std.SegmentID != nil {
			q.Set("segment_id", strconv.FormatInt(*std.SegmentID, 10))
		}
		d["CSV"] = "/api/v1/reports/standard.csv?" + q.Encode()
	}

	selected, _ := strconv.ParseInt(c.QueryParam("segment_id"), 10, 64)
	segs, err := u.pickerSegments(ctx, 100, selected)
	if err != nil {
		return err
	}
	d["Segments"] = segs
	list, err := campaigns.List(ctx, u.Pool, 0, 100)
	if err != nil {
		return err
	}
	var sent []campaigns.Campaign
	for _, cp := range list {
		if cp.Status != campaigns.StatusDraft {
			sent = append(sent, cp)
		}
	}
	d["Campaigns"] = sent

	ids, err := compareParam(c)
	if err != nil {
		pd.Error = err.Error()
	}
	chosen := map[int64]bool{}
	var cols []comparedCampaign
	for _, id := range ids {
		cp, err := campaigns.Get(ctx, u.Pool, id)
		if err != nil {
			return u.pageErr(c, err)
		}
		r, err := u.Campaigns.Report(ctx, id)
		if err != nil {
			return u.pageErr(c, err)
		}
		chosen[id] = true
		cols = append(cols, comparedCampaign{Campaign: cp, Report: r})
	}
	d["Compared"], d["Chosen"] = cols, chosen
	if len(ids) > 0 {
		parts := make([]string, len(ids))
		for i, id := range ids {
			parts[i] = strconv.FormatInt(id, 10)
		}
		d["CompareIDs"] = strings.Join(parts, ",")
	}
	status := http.StatusOK
	if pd.Error != "" {
		status = http.StatusUnprocessableEntity
	}
	return u.render(c, status, "reports", pd)
}

// compareParam reads ?compare=1,2,3 (and repeated compare= from the
// checkboxes), without duplicates, in order.
func compareParam(c echo.Context) ([]int64, error) {
	var ids []int64
	seen := map[int64]bool{}
	for _, v := range c.QueryParams()["compare"] {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p == "" {
				continue
			}
			id, err := strconv.ParseInt(p, 10, 64)
			if err != nil || id <= 0 {
				return ids, fmt.Errorf("compare: %q is not a campaign id", p)
			}
			if !seen[id] {
				seen[id] = true
				ids = append(ids, id)
			}
		}
	}
	if len(ids) > maxCompared {
		return ids[:maxCompared], fmt.Errorf("compare: at most %d campaigns can be compared", maxCompared)
	}
	return ids, nil
}

// standardReport is the standard report for this request's from, to and
// segment_id (parsed and checked as the API does).
func (u *UI) standardReport(c echo.Context) (reports.Standard, error) {
	if u.Pool == nil {
		return reports.Standard{}, errs.New(errs.Unavailable, "reports are not configured")
	}
	lc := u.locale(c) // from and to may be Jalali dates in Persian
	q, err := reports.ParseStandardQuery(lc.isoDate(c.QueryParam("from")), lc.isoDate(c.QueryParam("to")), c.QueryParam("segment_id"), time.Now())
	if err != nil {
		return reports.Standard{}, err
	}
	return reports.BuildStandard(c.Request().Context(), u.readDB(c.Request().Context()), q)
}
