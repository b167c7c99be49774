package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/peykar/peykar/campaigns"
	"github.com/peykar/peykar/campaigns/contacts"
	"github.com/peykar/peykar/internal/errs"
	"github.com/peykar/peykar/internal/httpapi"
	"github.com/peykar/peykar/templates"
)

// Rows the campaign form offers for steps and goals (empty rows are ignored).
const (
	stepRows = 3
	goalRows = 3
)

// campaignForm is the campaign editor's state: the campaign as typed, the
// choices, and the first validation error.
type campaignForm struct {
	campaigns.Campaign
	Rules       string // JSON, as typed
	Scheduled   string // datetime-local, UTC
	StepRows    []campaigns.Step
	GoalRows    []campaigns.Goal
	Segments    []contacts.Segment
	Templates   []templates.Template
	Err         formErr
	GoalMetrics []string
}

func (u *UI) campaignFormRoutes(g *echo.Group) {
	g.GET("/campaigns/new", u.campaignNew)
	g.POST("/campaigns/new", u.campaignCreate)
	g.GET("/campaigns/:id/edit", u.campaignEdit)
	g.POST("/campaigns/:id/edit", u.campaignUpdate)
}

func (u *UI) showCampaignForm(c echo.Context, status int, f campaignForm) error {
	ctx := c.Request().Context()
	segs, err := contacts.ListSegments(ctx, u.Pool, 0, 500)
	if err != nil {
		return err
	}
	tpls, err := templates.List(ctx, u.Pool, 0, 500)
	if err != nil {
		return err
	}
	f.Segments, f.Templates, f.GoalMetrics = segs, tpls, campaigns.GoalMetrics()
	for len(f.StepRows) < stepRows {
		f.StepRows = append(f.StepRows, campaigns.Step{})
	}
	for len(f.GoalRows) < goalRows {
		f.GoalRows = append(f.GoalRows, campaigns.Goal{})
	}
	title := f.Name
	if f.ID == 0 {
		title = u.t(c, "campaigns.new")
	}
	return u.render(c, status, "campaign_form", pageData{Title: title, Nav: "campaigns", Data: f})
}

func (u *UI) campaignNew(c echo.Context) error {
	f := campaignForm{Campaign: campaigns.Campaign{Channel: campaigns.ChannelEmail}, Rules: "[]"}
	f.StepRows = []campaigns.Step{{Key: "main"}}
	return u.showCampaignForm(c, http.StatusOK, f)
}

func (u *UI) campaignEdit(c echo.Context) error {
	id, err := httpapi.PathID(c, "id")
	if err != nil {
		return u.pageErr(c, err)
	}
	cp, err := campaigns.Get(c.Request().Context(), u.Pool, id)
	if err != nil {
		return u.pageErr(c, err)
	}
	rules, _ := json.MarshalIndent(cp.Rules, "", "  ")
	f := campaignForm{Campaign: cp, Rules: string(rules), StepRows: cp.Steps, GoalRows: cp.Goals}
	if cp.Rules == nil {
		f.Rules = "[]"
	}
	if cp.ScheduledAt != nil {
		f.Scheduled = cp.ScheduledAt.UTC().Format("2006-01-02T15:04")
	}
	return u.showCampaignForm(c, http.StatusOK, f)
}

func (u *UI) campaignCreate(c echo.Context) error { return u.campaignSave(c, 0) }

func (u *UI) campaignUpdate(c echo.Context) error {
	id, err := httpapi.PathID(c, "id")
	if err != nil {
		return u.pageErr(c, err)
	}
	return u.campaignSave(c, id)
}

// campaignSave reads the form into a campaign and hands it to the
// campaigns service, which validates it; its field errors show next to the
// field.
func (u *UI) campaignSave(c echo.Context, id int64) error {
	f, err := readCampaignForm(c)
	f.ID = id
	if err == nil {
		if id == 0 {
			err = u.Campaigns.Create(c.Request().Context(), &f.Campaign)
		} else {
			err = u.Campaigns.Update(c.Request().Context(), &f.Campaign)
		}
	}
	if fe, ok := asFormErr(err); ok {
		f.Err = fe
		return u.showCampaignForm(c, http.StatusUnprocessableEntity, f)
	}
	if err != nil {
		return u.pageErr(c, err)
	}
	return redirect(c, "/admin/campaigns/"+strconv.FormatInt(f.ID, 10))
}

// readCampaignForm parses the posted form. It returns the form as typed
// (to show again) and an Invalid error for input that is not even the
// right type (a number that is not a number, rules that are not JSON).
func readCampaignForm(c echo.Context) (campaignForm, error) {
	v := func(name string) string { return strings.TrimSpace(c.FormValue(name)) }
	f := campaignForm{Rules: c.FormValue("rules"), Scheduled: v("scheduled_at")}
	cp := &f.Campaign
	cp.Name, cp.Channel, cp.ReplyTo = v("name"), v("channel"), v("reply_to")
	cp.From = campaigns.Address{Name: v("from.name"), Email: v("from.email")}
	var firstErr error
	fail := func(err error) {
		if firstErr == nil {
			firstErr = err
		}
	}
	if s := v("segment_id"); s != "" {
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			fail(errs.Field("segment_id", "choose a segment"))
		}
		cp.SegmentID = &id
	}
	for i := 0; i < stepRows; i++ {
		key, tpl := v(fmt.Sprintf("steps[%d].key", i)), v(fmt.Sprintf("steps[%d].template_id", i))
		step := campaigns.Step{Key: key}
		if tpl != "" {
			step.TemplateID, _ = strconv.ParseInt(tpl, 10, 64)
		}
		f.StepRows = append(f.StepRows, step)
		if key != "" || tpl != "" {
			cp.Steps = append(cp.Steps, step)
		}
	}
	for i := 0; i < goalRows; i++ {
		g := campaigns.Goal{Name: v(fmt.Sprintf("goals[%d].name", i)), When: v(fmt.Sprintf("goals[%d].when", i))}
		f.GoalRows = append(f.GoalRows, g)
		if g.Name != "" || g.When != "" {
			cp.Goals = append(cp.Goals, g)
		}
	}
	if s := v("throttle_per_second"); s != "" {
		n, err := strconv.ParseFloat(s, 64)
		if err != nil {
			fail(errs.Field("throttle_per_second", "must be a number of messages per second"))
		}
		cp.ThrottlePerSecond = n
	}
	if f.Scheduled != "" {
		t, err := time.Parse("2006-01-02T15:04", f.Scheduled)
		if err != nil {
			fail(errs.Field("scheduled_at", "must be a date and time"))
		}
		cp.ScheduledAt = &t
	}
	if url := v("settings.webhook.url"); url != "" {
		cp.Settings.Webhook = &campaigns.WebhookSettings{URL: url, Secret: v("settings.webhook.secret")}
	}
	if r := strings.TrimSpace(f.Rules); r != "" {
		if err := json.Unmarshal([]byte(r), &cp.Rules); err != nil {
			fail(errs.Field("rules", "must be a JSON list of rules: %v", err))
		}
	}
	return f, firstErr
}
