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
)

// campaignJourney is GET /admin/campaigns/:id/journey: the journey map's
// SVG alone. The campaign page's numbers follow the campaign's report
// stream (web/static/journey.js sets each number in place, by its stat
// path); this partial is the script's slow fallback while the stream is
// down, and whoever wants the map alone.
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

// journeyLive says whether the campaign's map keeps changing (and follows
// the report stream): as for the page's live region, all but drafts and
// cancelled.
func journeyLive(cp campaigns.Campaign) bool {
	return cp.Status != campaigns.StatusDraft && cp.Status != campaigns.StatusCancelled
}

// journeyMapSVG reads the map's names and live numbers through their owners
// and draws it in the request's language.
func (u *UI) journeyMapSVG(ctx context.Context, c echo.Context, cp campaigns.Campaign, r campaigns.Report) (template.HTML, error) {
	svg, _, err := u.journeyView(ctx, c, cp, r)
	return svg, err
}

// journeyView is the map (journeyMapSVG) and the read-only details of its
// steps and rules, which its nodes link to where they cannot be edited.
func (u *UI) journeyView(ctx context.Context, c echo.Context, cp campaigns.Campaign, r campaigns.Report) (template.HTML, []journeyDetail, error) {
	lang := u.lang(c)
	in := journeyNumbers(cp, r)
	in.RTL = lang.msg.T("dir") == "rtl"
	in.Locale = u.locale(c) //nolint:contextcheck // the user's zone is read with the request's own context, once per request
	if cp.SegmentID != nil {
		seg, err := segments.GetSegment(ctx, u.Pool, *cp.SegmentID)
		if err != nil {
			return "", nil, fmt.Errorf("journey map segment: %w", err)
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
	m := layoutJourney(lang.msg, in)
	svg, err := journeySVG(lang.msg, m)
	if err != nil {
		return "", nil, err
	}
	return svg, journeyDetails(lang.msg, in, m), nil
}

// journeyNumbers is the map's input with the campaign and the live numbers
// of its report: the same report the campaign's stream sends, which the
// numbers' stat paths point into.
func journeyNumbers(cp campaigns.Campaign, r campaigns.Report) journeyInput {
	in := journeyInput{Campaign: cp, Audience: -1, Steps: r.Steps, Rules: r.Rules, Template: map[int64]string{},
		Waiting: make(map[string]int64, len(r.StepDeliveries))}
	for k, d := range r.StepDeliveries {
		in.Waiting[k] = d.Waiting
	}
	if len(cp.Steps) > 0 && cp.Status != campaigns.StatusDraft {
		in.Entered = r.StepDeliveries[cp.Steps[0].Key].Created
	}
	return in
}
