package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/peykar/peykar/campaigns"
	"github.com/peykar/peykar/campaigns/contacts"
	"github.com/peykar/peykar/campaigns/segments"
	"github.com/peykar/peykar/internal/errs"
	"github.com/peykar/peykar/internal/httpapi"
	"github.com/peykar/peykar/templates"
)

// The form shows each step, goal and rule with its actions; rows are
// added and removed in the page (web/static/builder.js), and rows left
// empty are ignored. These bound what a form may post.
const (
	maxStepRows   = 50
	maxGoalRows   = 50
	maxRuleRows   = 50
	maxActionRows = 20
	// legacyRows is how many step and goal rows a form without a count
	// (steps.count, goals.count) is read for.
	legacyRows = 3
)

// ruleRow is a rule in the editor with its action rows.
type ruleRow struct {
	campaigns.Rule
	ActionRows []campaigns.Action
}

// RuleEvents are the rule editor's choices for "on", events first.
var ruleEvents = []string{"click", "open", "conversion", "unsubscribe", "bounce", "sent", "no_open", "no_click", "no_conversion"}

// ruleActions are the rule editor's action types.
var ruleActions = []string{"send", "add_tag", "remove_tag", "set_attribute", "webhook", "exit"}

// campaignForm is the campaign editor's state: the campaign as typed, the
// choices, and every validation error, each next to its field.
type campaignForm struct {
	campaigns.Campaign
	Scheduled   string // as typed, on the user's clock (see locale.ScheduleValue)
	StepRows    []campaigns.Step
	GoalRows    []campaigns.Goal
	RuleRows    []ruleRow
	StepKeys    []string // the steps typed so far, for the rule editor's choices
	RuleEvents  []string
	RuleActions []string
	Segments    []segments.Segment
	Topics      []topicChoice
	Templates   []templates.Template
	Errs        problemList
	GoalMetrics []string
	// NoStep, NoGoal, NewRule and NewAction are the blank rows the page
	// adds from (its <template> elements).
	NoStep    campaigns.Step
	NoGoal    campaigns.Goal
	NewRule   ruleRow
	NewAction campaigns.Action
	// Locked: the campaign was launched, so only its name, throttle,
	// rules, goals and settings may change; the form shows only those.
	Locked bool
	// EndsAt is the journey's end date as typed; EventTypes are the
	// contact event types offered for the entry and exit events.
	EndsAt     string
	EventTypes []string
}

func (u *UI) campaignFormRoutes(g *echo.Group) {
	g.GET("/campaigns/new", u.campaignNew)
	g.POST("/campaigns/new", u.campaignCreate)
	g.GET("/campaigns/:id/edit", u.campaignEdit)
	g.POST("/campaigns/:id/edit", u.campaignUpdate)
}

func (u *UI) showCampaignForm(c echo.Context, status int, f campaignForm) error {
	ctx := c.Request().Context()
	segs, err := segments.ListSegments(ctx, u.Pool, 0, 500)
	if err != nil {
		return err
	}
	tpls, err := templates.List(ctx, u.Pool, 0, 500)
	if err != nil {
		return err
	}
	f.Segments, f.Templates, f.GoalMetrics = segs, tpls, campaigns.GoalMetrics()
	f.Segments, f.Templates = pickable(f, f.Segments, f.Templates) // archived ones only where in use
	if f.Topics, err = u.topicChoices(ctx, f.TopicIDs); err != nil {
		return err
	}
	f.StepKeys = nil
	for _, st := range f.StepRows {
		if st.Key != "" {
			f.StepKeys = append(f.StepKeys, st.Key)
		}
	}
	f.RuleEvents, f.RuleActions = ruleEvents, ruleActions
	recorded, err := contacts.EventTypes(ctx, u.Pool)
	if err != nil {
		return err
	}
	f.EventTypes = eventChoices(recorded)
	f.RuleRows = ruleRows(f.Rules)
	f.NewRule = ruleRow{ActionRows: []campaigns.Action{{}}}
	title := f.Name
	if f.ID == 0 {
		title = u.t(c, "campaigns.new")
	}
	return u.render(c, status, "campaign_form", pageData{Title: title, Nav: "campaigns", Data: f})
}

func (u *UI) campaignNew(c echo.Context) error {
	f := campaignForm{Campaign: campaigns.Campaign{Channel: campaigns.ChannelEmail}}
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
	f := campaignForm{Campaign: cp, StepRows: cp.Steps, GoalRows: cp.Goals, Locked: cp.Status != campaigns.StatusDraft}
	f.Scheduled = u.locale(c).ScheduleValue(cp.ScheduledAt)
	f.EndsAt = endsValue(u.locale(c), cp.EndsAt)
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
	f, readErrs := readCampaignForm(c, u.locale(c), func(id string, args ...any) string { return u.t(c, id, args...) })
	f.ID = id
	var old campaigns.Campaign
	if id != 0 {
		var gerr error
		if old, gerr = campaigns.Get(c.Request().Context(), u.Pool, id); gerr != nil {
			return u.pageErr(c, gerr)
		}
		f.Status = old.Status
		if f.Locked = old.Status != campaigns.StatusDraft; f.Locked {
			// A launched campaign's audience stays as stored; the form
			// does not show it.
			f.SegmentID, f.Channel, f.From, f.ReplyTo = old.SegmentID, old.Channel, old.From, old.ReplyTo
			f.TopicIDs = old.TopicIDs
			f.Steps, f.StepRows, f.ScheduledAt = old.Steps, old.Steps, old.ScheduledAt
			f.Entry.Type, f.Entry.Event = old.Entry.Type, old.Entry.Event
			f.Scheduled = u.locale(c).ScheduleValue(old.ScheduledAt)
		}
	}
	var err error
	if len(readErrs) > 0 {
		// Not saved: input that is not even the right type. The campaign's
		// own mistakes show with it, so one submit shows them all.
		all := append(readErrs, errs.All(campaigns.Validate(&f.Campaign))...)
		err = errs.Collect(all)
	} else if id == 0 {
		err = u.Campaigns.Create(c.Request().Context(), &f.Campaign)
	} else {
		err = u.updateCampaign(c, old, &f.Campaign)
	}
	if _, ok := asFormErr(err); ok {
		f.Errs = explainAll(func(id string, args ...any) string { return u.t(c, id, args...) }, &f.Campaign, err)
		return u.showCampaignForm(c, http.StatusUnprocessableEntity, f)
	}
	if err != nil {
		return u.pageErr(c, err)
	}
	return redirect(c, "/admin/campaigns/"+strconv.FormatInt(f.ID, 10))
}

// updateCampaign saves an edited campaign, keeping the settings the form
// does not show (set through the API: rules_until, the webhook secret,
// a journey's entry, reentry, exit and ends_at) as they are stored.
func (u *UI) updateCampaign(c echo.Context, old campaigns.Campaign, cp *campaigns.Campaign) error {
	cp.Settings.RulesUntil = old.Settings.RulesUntil
	cp.Entry, cp.Reentry, cp.Exit, cp.EndsAt = old.Entry, old.Reentry, old.Exit, old.EndsAt
	if cp.Settings.Webhook != nil && old.Settings.Webhook != nil && cp.Settings.Webhook.Secret == "" {
		cp.Settings.Webhook.Secret = old.Settings.Webhook.Secret
	}
	return u.Campaigns.Update(c.Request().Context(), cp)
}

// ruleRows lays rules out for the editor, each with its actions.
func ruleRows(rules []campaigns.Rule) []ruleRow {
	rows := make([]ruleRow, 0, len(rules))
	for _, r := range rules {
		rows = append(rows, ruleRow{Rule: r, ActionRows: append([]campaigns.Action(nil), r.Actions...)})
	}
	return rows
}

// HasStep reports whether key is one of the steps typed so far.
func (f campaignForm) HasStep(key string) bool {
	return slices.Contains(f.StepKeys, key)
}

// readRules reads the rule editor's rows. Rows left empty are skipped, so
// the rules (and error positions such as rules[1].actions[0].step) are
// numbered as the campaign stores them.
func readRules(v func(string) string) []campaigns.Rule {
	count := func(name string, limit int) int {
		n, _ := strconv.Atoi(v(name))
		return min(max(n, 0), limit)
	}
	rules := []campaigns.Rule{}
	for i := range count("rules.count", maxRuleRows) {
		p := fmt.Sprintf("rules[%d].", i)
		r := campaigns.Rule{Name: v(p + "name"), On: v(p + "on"), When: v(p + "when"), After: v(p + "after"), Step: v(p + "step")}
		for j := range count(p+"actions.count", maxActionRows) {
			ap := fmt.Sprintf("%sactions[%d].", p, j)
			a := campaigns.Action{Type: v(ap + "type")}
			if a.Type == "" {
				continue
			}
			switch a.Type {
			case "send":
				a.Step, a.Delay = v(ap+"step"), v(ap+"delay")
			case "add_tag", "remove_tag":
				a.Tag = v(ap + "tag")
			case "set_attribute":
				a.Name, a.Value = v(ap+"name"), attributeValue(v(ap+"value"))
			case "webhook":
				a.URL = v(ap + "url")
			}
			r.Actions = append(r.Actions, a)
		}
		if r.Name == "" && r.On == "" && r.When == "" && r.After == "" && len(r.Actions) == 0 {
			continue
		}
		rules = append(rules, r)
	}
	return rules
}

// attributeValue reads a set_attribute value as typed: JSON when it is a
// number, true/false, null or a quoted string, else the text itself; an
// empty input is null.
func attributeValue(s string) any {
	if s == "" {
		return nil
	}
	var v any
	if json.Unmarshal([]byte(s), &v) == nil {
		switch v.(type) {
		case float64, bool, string, nil:
			return v
		}
	}
	return s
}

// showAttributeValue shows a set_attribute value so that reading the form
// back (attributeValue) gives the same value: strings bare unless they
// would read as JSON ("3", "true"), anything else as JSON.
func showAttributeValue(v any) string {
	switch s := v.(type) {
	case nil:
		return ""
	case string:
		if s != "" && attributeValue(s) == any(s) {
			return s
		}
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// readCampaignForm parses the posted form. It returns the form as typed
// (to show again) and an Invalid error for each input that is not even
// the right type (a number that is not a number). The schedule is read on
// lc's clock (the user's zone; a Jalali date in Persian) and stored in UTC;
// tr words the message for a schedule it cannot read.
func readCampaignForm(c echo.Context, lc locale, tr func(string, ...any) string) (campaignForm, []*errs.Error) {
	v := func(name string) string { return strings.TrimSpace(c.FormValue(name)) }
	f := campaignForm{Scheduled: v("scheduled_at")}
	cp := &f.Campaign
	cp.Name, cp.Channel, cp.ReplyTo = v("name"), v("channel"), v("reply_to")
	cp.From = campaigns.Address{Name: v("from.name"), Email: v("from.email")}
	var bad []*errs.Error
	fail := func(err *errs.Error) { bad = append(bad, err) }
	if s := v("segment_id"); s != "" {
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			fail(errs.Field("segment_id", "choose a segment"))
		}
		cp.SegmentID = &id
	}
	if params, err := c.FormParams(); err == nil {
		cp.TopicIDs = formTopicIDs(params["topic_ids"])
	}
	// Rows are read up to their count; empty ones are dropped, so the rows
	// shown again (and error positions such as goals[1].when) are numbered
	// as the campaign stores them.
	rowCount := func(name string, limit int) int {
		s := v(name)
		if s == "" {
			return legacyRows
		}
		n, _ := strconv.Atoi(s)
		return min(max(n, 0), limit)
	}
	for i := range rowCount("steps.count", maxStepRows) {
		key, tpl := v(fmt.Sprintf("steps[%d].key", i)), v(fmt.Sprintf("steps[%d].template_id", i))
		step := campaigns.Step{Key: key}
		if tpl != "" {
			step.TemplateID, _ = strconv.ParseInt(tpl, 10, 64)
		}
		if key != "" || tpl != "" {
			cp.Steps = append(cp.Steps, step)
		}
	}
	f.StepRows = cp.Steps
	for i := range rowCount("goals.count", maxGoalRows) {
		g := campaigns.Goal{Name: v(fmt.Sprintf("goals[%d].name", i)), When: v(fmt.Sprintf("goals[%d].when", i))}
		date := v(fmt.Sprintf("goals[%d].target_date", i))
		if g.Name == "" && g.When == "" && date == "" {
			continue
		}
		if date != "" {
			d, err := lc.ParseDate(date) // a Jalali date in Persian
			if err != nil {
				fail(errs.Field(fmt.Sprintf("goals[%d].target_date", len(cp.Goals)), "%s", tr("date.invalid", lc.digits(lc.DateLayout()))))
			} else {
				g.TargetDate = &d
			}
		}
		cp.Goals = append(cp.Goals, g)
	}
	f.GoalRows = cp.Goals
	if s := v("throttle_per_second"); s != "" {
		n, err := strconv.ParseFloat(s, 64)
		if err != nil {
			fail(errs.Field("throttle_per_second", "must be a number of messages per second"))
		}
		cp.ThrottlePerSecond = n
	}
	if f.Scheduled != "" {
		t, err := lc.ParseSchedule(f.Scheduled)
		if err != nil {
			fail(errs.Field("scheduled_at", "%s", tr("campaign.schedule_invalid", lc.digits(lc.ScheduleLayout()))))
		} else {
			cp.ScheduledAt = &t
		}
	}
	if url := v("settings.webhook.url"); url != "" {
		cp.Settings.Webhook = &campaigns.WebhookSettings{URL: url, Secret: v("settings.webhook.secret"), Kind: v("settings.webhook.kind")}
	}
	cp.Settings.Language = v("settings.language")
	if utm := (campaigns.UTM{Source: v("settings.utm.source"), Medium: v("settings.utm.medium"), Campaign: v("settings.utm.campaign")}); utm != (campaigns.UTM{}) {
		cp.Settings.UTM = &utm
	}
	cp.Settings.ConversionWindow = v("settings.conversion_window")
	if max, per := v("settings.frequency_cap.max"), v("settings.frequency_cap.per"); max != "" || per != "" {
		n, err := strconv.Atoi(max)
		if err != nil {
			fail(errs.Field("settings.frequency_cap.max", "must be a whole number of messages"))
		}
		cp.Settings.FrequencyCap = &campaigns.FrequencyCap{Max: n, Per: per}
	}
	cp.Settings.Holdout = readHoldoutPercent(v("settings.holdout"), tr, fail)
	readTiming(v, cp)
	cp.Rules = readRules(v)
	f.EndsAt = readJourney(v, lc, tr, cp, fail)
	readABTest(v, cp, fail)
	return f, bad
}
