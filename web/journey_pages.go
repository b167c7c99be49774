package web

import (
	"context"
	"fmt"
	"html/template"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/peykar/peykar/campaigns"
	"github.com/peykar/peykar/campaigns/segments"
	"github.com/peykar/peykar/internal/auth"
	"github.com/peykar/peykar/internal/httpapi"
	"github.com/peykar/peykar/templates"
	"github.com/peykar/peykar/tracking"
)

// campaignJourney is GET /admin/campaigns/:id/journey: the journey map's
// SVG alone, which the campaign page polls (htmx, every few seconds) while
// the campaign can still change. The map is polled rather than fed by the
// report's event stream because it is drawn on the server (the stream
// carries the report as JSON, and its waiting counts are not in it), and
// the page around it is polled the same way.
func (u *UI) campaignJourney(c echo.Context) error {
	id, err := httpapi.PathID(c, "id")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	cp, err := campaigns.Get(ctx, u.Pool, id)
	if err != nil {
		return err
	}
	r, err := u.Campaigns.Report(ctx, id)
	if err != nil {
		return err
	}
	svg, err := u.journeyMapSVG(ctx, c, cp, r)
	if err != nil {
		return err
	}
	return c.HTML(http.StatusOK, string(svg))
}

// journeyLive says whether the campaign's map keeps changing (and is
// polled): as for the page's live region, all but drafts and cancelled.
func journeyLive(cp campaigns.Campaign) bool {
	return cp.Status != campaigns.StatusDraft && cp.Status != campaigns.StatusCancelled
}

// journeyMapSVG reads the map's names and live numbers through their owners
// and draws it in the request's language.
func (u *UI) journeyMapSVG(ctx context.Context, c echo.Context, cp campaigns.Campaign, r campaigns.Report) (template.HTML, error) {
	lang := u.lang(c)
	in := journeyInput{Campaign: cp, Audience: -1, Steps: r.Steps, Rules: r.Rules, RTL: lang.msg.T("dir") == "rtl",
		Template: map[int64]string{}}
	byStep, err := tracking.DeliveriesByStep(ctx, u.Pool, cp.ID)
	if err != nil {
		return "", err
	}
	in.Waiting = make(map[string]int64, len(byStep))
	for k, d := range byStep {
		in.Waiting[k] = d.Waiting
	}
	if len(cp.Steps) > 0 && cp.Status != campaigns.StatusDraft {
		in.Entered = byStep[cp.Steps[0].Key].Created
	}
	if cp.SegmentID != nil {
		seg, err := segments.GetSegment(ctx, u.Pool, *cp.SegmentID)
		if err != nil {
			return "", fmt.Errorf("journey map segment: %w", err)
		}
		in.Segment = seg.Name
	}
	for _, st := range cp.Steps {
		if _, done := in.Template[st.TemplateID]; done || st.TemplateID == 0 {
			continue
		}
		if tp, err := templates.Get(ctx, u.Pool, st.TemplateID); err == nil {
			in.Template[st.TemplateID] = tp.Name
		}
	}
	if cp.Status == campaigns.StatusDraft {
		in.Audience = u.audience(ctx, cp)
	}
	if who, ok := auth.FromContext(c); ok && auth.Allowed(who.Role, http.MethodPost, "/admin/campaigns/:id/edit") {
		in.EditSteps = cp.Status == campaigns.StatusDraft
		in.EditRules = cp.Status != campaigns.StatusCancelled
	}
	return journeySVG(lang.msg, layoutJourney(lang.msg, in))
}
