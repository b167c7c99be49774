package web

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/peykar/peykar/campaigns"
	"github.com/peykar/peykar/campaigns/analytics"
	"github.com/peykar/peykar/campaigns/reports"
	"github.com/peykar/peykar/campaigns/segments"
	"github.com/peykar/peykar/internal/httpapi"
)

// campaignRow is one line of the campaign list.
type campaignRow struct {
	campaigns.Campaign
	Metrics  campaigns.Metrics
	Progress campaigns.Progress
}

func (u *UI) campaignRoutes(g *echo.Group) {
	g.GET("/campaigns", u.campaignList)
	g.GET("/campaigns/:id", u.campaignReport)
	g.GET("/campaigns/:id/progress", u.campaignProgress)
	g.GET("/campaigns/:id/journey", u.campaignJourney)
	for _, action := range []string{"launch", "pause", "resume", "cancel"} {
		g.POST("/campaigns/:id/"+action, u.campaignAction(action))
	}
}

const campaignsPerPage = 25

func (u *UI) campaignList(c echo.Context) error {
	ctx := c.Request().Context()
	after, _ := strconv.ParseInt(c.QueryParam("after"), 10, 64)
	list, err := campaigns.List(ctx, u.Pool, after, campaignsPerPage)
	if err != nil {
		return err
	}
	rows := make([]campaignRow, 0, len(list))
	for _, cp := range list {
		row := campaignRow{Campaign: cp}
		if cp.Status != campaigns.StatusDraft {
			r, err := u.Campaigns.Report(ctx, cp.ID)
			if err != nil {
				return err
			}
			row.Metrics, row.Progress = r.Metrics, r.Progress
		}
		rows = append(rows, row)
	}
	next := ""
	if len(list) == campaignsPerPage {
		next = strconv.FormatInt(list[len(list)-1].ID, 10)
	}
	return u.render(c, http.StatusOK, "campaigns", pageData{Nav: "campaigns", Data: map[string]any{"Rows": rows, "Next": next}})
}

func (u *UI) campaignReport(c echo.Context) error {
	id, err := httpapi.PathID(c, "id")
	if err != nil {
		return u.pageErr(c, err)
	}
	ctx := c.Request().Context()
	cp, err := campaigns.Get(ctx, u.Pool, id)
	if err != nil {
		return u.pageErr(c, err)
	}
	r, err := u.Campaigns.Report(ctx, id)
	if err != nil {
		return u.pageErr(c, err)
	}
	ruleStats, err := campaigns.RulesStats(ctx, u.Pool, cp)
	if err != nil {
		return u.pageErr(c, err)
	}
	anomalies, err := analytics.ListAnomalies(ctx, u.Pool, id)
	if err != nil {
		return u.pageErr(c, err)
	}
	data := map[string]any{"Campaign": cp, "Report": r, "View": reports.NewView(r, stepKeys(cp)), "RuleStats": ruleStats, "Anomalies": anomalies,
		"RulesActive":   len(cp.Rules) > 0 && cp.Status != campaigns.StatusDraft && cp.RulesActiveAt(time.Now()),
		"RulesEnd":      cp.RulesEnd(),
		"LaunchConfirm": ""}
	if data["Journey"], err = u.journeyMapSVG(ctx, c, cp, r); err != nil {
		return u.pageErr(c, err)
	}
	data["JourneyLive"] = journeyLive(cp)
	if cp.Status == campaigns.StatusDraft {
		if n := u.audience(ctx, cp); n >= 0 {
			data["LaunchConfirm"] = u.t(c, "campaign.launch_confirm_count", n)
		} else {
			data["LaunchConfirm"] = u.t(c, "campaign.launch_confirm")
		}
	}
	return u.render(c, http.StatusOK, "campaign", pageData{Title: cp.Name, Nav: "campaigns", Data: data})
}

// audience is how many contacts the draft's segment matches now, for the
// launch confirmation, when a count is cheap (the segment translates to
// SQL); -1 otherwise.
func (u *UI) audience(ctx context.Context, cp campaigns.Campaign) int64 {
	if cp.SegmentID == nil {
		return -1
	}
	seg, err := segments.GetSegment(ctx, u.Pool, *cp.SegmentID)
	if err != nil {
		return -1
	}
	rule, err := segments.CompileSegment(seg.Rule)
	if err != nil || !rule.Translatable() {
		return -1
	}
	n, err := segments.Count(ctx, u.Pool, rule)
	if err != nil {
		u.Logger.WarnContext(ctx, "count segment for launch confirmation", slog.Int64("segment_id", seg.ID), slog.Any("error", err))
		return -1
	}
	return n
}

// campaignProgress is the progress panel alone, polled by htmx while the
// campaign sends.
func (u *UI) campaignProgress(c echo.Context) error {
	id, err := httpapi.PathID(c, "id")
	if err != nil {
		return err
	}
	r, err := u.Campaigns.Report(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return u.fragment(c, http.StatusOK, "campaign", "progress", map[string]any{"Report": r, "View": reports.NewView(r, nil), "ID": id})
}

// stepKeys are the campaign's step keys in their order.
func stepKeys(cp campaigns.Campaign) []string {
	keys := make([]string, len(cp.Steps))
	for i, st := range cp.Steps {
		keys[i] = st.Key
	}
	return keys
}

func (u *UI) campaignAction(action string) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := httpapi.PathID(c, "id")
		if err != nil {
			return u.pageErr(c, err)
		}
		if action == "launch" {
			_, err = u.Campaigns.Launch(c.Request().Context(), id)
		} else {
			_, err = u.Campaigns.Transition(c.Request().Context(), id, action)
		}
		if err != nil {
			return u.pageErr(c, err)
		}
		return redirect(c, "/admin/campaigns/"+strconv.FormatInt(id, 10))
	}
}
