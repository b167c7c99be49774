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
	"github.com/peykar/peykar/campaigns/topics"
	"github.com/peykar/peykar/internal/errs"
	"github.com/peykar/peykar/internal/httpapi"
	"github.com/peykar/peykar/templates"
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
	g.GET("/campaigns/:id/entries", u.campaignEntries)
	for _, action := range []string{"launch", "pause", "resume", "cancel"} {
		g.POST("/campaigns/:id/"+action, u.campaignAction(action))
	}
}

const campaignsPerPage = 25

func (u *UI) campaignList(c echo.Context) error {
	ctx := c.Request().Context()
	after, _ := strconv.ParseInt(c.QueryParam("after"), 10, 64)
	archived := showArchived(c)
	list, err := campaigns.ListPage(ctx, u.Pool, after, campaignsPerPage, archived)
	if err != nil {
		return err
	}
	total, err := campaigns.ListTotal(ctx, u.Pool, archived)
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
	return u.render(c, http.StatusOK, "campaigns", pageData{Nav: "campaigns", Data: map[string]any{"Rows": rows, "Next": next, "Total": total, "Archived": archived}})
}

func (u *UI) campaignReport(c echo.Context) error {
	id, err := httpapi.PathID(c, "id")
	if err != nil {
		return u.pageErr(c, err)
	}
	return u.showCampaign(c, http.StatusOK, id, nil)
}

// showCampaign renders the campaign page; launchProblems are what keeps a
// draft from launching, listed at the top after a refused Launch.
func (u *UI) showCampaign(c echo.Context, status int, id int64, launchProblems problemList) error {
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
		"LaunchConfirm": "", "LaunchProblems": launchProblems}
	data["SegmentName"], data["TemplateNames"] = u.definitionNames(ctx, cp)
	data["DataAge"] = dataAgeOf(r)
	if data["Topics"], err = topics.ByIDs(ctx, u.Pool, "topic_ids", cp.TopicIDs); err != nil {
		return u.pageErr(c, err)
	}
	if data["Journey"], data["JourneyDetails"], err = u.journeyView(ctx, c, cp, r); err != nil {
		return u.pageErr(c, err)
	}
	data["JourneyLive"] = journeyLive(cp)
	if cp.Triggered() {
		if data["Entries"], err = u.journeyEntryCounts(ctx, id); err != nil {
			return u.pageErr(c, err)
		}
	}
	if cp.Status == campaigns.StatusDraft {
		if n := u.audience(ctx, cp); n >= 0 {
			msg := "campaign.launch_confirm_count"
			if len(cp.TopicIDs) > 0 {
				msg = "campaign.launch_confirm_count_topics"
			}
			data["LaunchConfirm"] = u.t(c, msg, n)
		} else {
			data["LaunchConfirm"] = u.t(c, "campaign.launch_confirm")
		}
	}
	return u.render(c, status, "campaign", pageData{Title: cp.Name, Nav: "campaigns", Data: data})
}

// definitionNames are the names of the campaign's segment and of its
// steps' templates, so the page shows names, not ids; one that is gone
// (or unreadable) is left out and shows as its id.
func (u *UI) definitionNames(ctx context.Context, cp campaigns.Campaign) (string, map[int64]string) {
	segName := ""
	if cp.SegmentID != nil {
		if seg, err := segments.GetSegment(ctx, u.Pool, *cp.SegmentID); err == nil {
			segName = seg.Name
		}
	}
	tpls := make(map[int64]string, len(cp.Steps))
	for _, st := range cp.Steps {
		if st.TemplateID == 0 {
			continue // a draft step without a template yet
		}
		if t, err := templates.Get(ctx, u.Pool, st.TemplateID); err == nil {
			tpls[st.TemplateID] = t.Name
		}
	}
	return segName, tpls
}

// audience is how many contacts the draft's segment matches now (only
// its topics' subscribers when it targets topics), for the launch
// confirmation, when a count is cheap (the segment translates to
// SQL); -1 otherwise.
func (u *UI) audience(ctx context.Context, cp campaigns.Campaign) int64 {
	rule, err := campaigns.Audience(ctx, u.Pool, cp) // the segment and/or the topics' subscribers
	if err != nil || !rule.Translatable() {
		return -1
	}
	n, err := segments.Count(ctx, u.Pool, rule)
	if err != nil {
		u.Logger.WarnContext(ctx, "count audience for launch confirmation", slog.Int64("campaign_id", cp.ID), slog.Any("error", err))
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
			if errs.Is(err, errs.Invalid) {
				return u.launchRefused(c, id, err)
			}
		} else {
			_, err = u.Campaigns.Transition(c.Request().Context(), id, action)
		}
		if err != nil {
			return u.pageErr(c, err)
		}
		return redirect(c, "/admin/campaigns/"+strconv.FormatInt(id, 10))
	}
}

// launchRefused shows the campaign page with everything that keeps it
// from launching, each in the page's language.
func (u *UI) launchRefused(c echo.Context, id int64, err error) error {
	cp, gerr := campaigns.Get(c.Request().Context(), u.Pool, id)
	if gerr != nil {
		return u.pageErr(c, gerr)
	}
	problems := explainAll(func(msg string, args ...any) string { return u.t(c, msg, args...) }, &cp, err)
	return u.showCampaign(c, http.StatusUnprocessableEntity, id, problems)
}
