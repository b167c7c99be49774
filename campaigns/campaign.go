package campaigns

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/mail"
	"regexp"
	"strings"
	"time"

	"github.com/peykar/peykar/campaigns/settings"
	"github.com/peykar/peykar/internal/errs"
)

// Campaign statuses.
const (
	StatusDraft     = "draft"
	StatusScheduled = "scheduled"
	StatusRunning   = "running"
	StatusPaused    = "paused"
	StatusFinished  = "finished"
	StatusCancelled = "cancelled"
)

// Channels a campaign can send on.
const (
	ChannelEmail   = "email"
	ChannelWebhook = "webhook"
)

// Campaign is a marketer's campaign: who (segment), what (steps and their
// templates), how (channel, throttle, schedule), what follows (rules) and how
// success is judged (goals).
type Campaign struct {
	ID                int64      `json:"id"`
	Name              string     `json:"name"`
	SegmentID         *int64     `json:"segment_id"`
	TopicIDs          []int64    `json:"topic_ids"` // only subscribers of one of these (with SegmentID, both must hold)
	Channel           string     `json:"channel"`
	From              Address    `json:"from"`
	ReplyTo           string     `json:"reply_to,omitempty"`
	Steps             []Step     `json:"steps"`
	Rules             []Rule     `json:"rules"`
	Goals             []Goal     `json:"goals"`
	ThrottlePerSecond float64    `json:"throttle_per_second"`
	ScheduledAt       *time.Time `json:"scheduled_at"`
	Settings          Settings   `json:"settings"`
	Status            string     `json:"status"`
	LaunchedAt        *time.Time `json:"launched_at,omitempty"`
	FinishedAt        *time.Time `json:"finished_at,omitempty"`
	CreatedAt         time.Time  `json:"created_at"`
	UpdatedAt         time.Time  `json:"updated_at"`
	// ArchivedAt is when the campaign was archived (hidden from lists,
	// kept with its history); read-only: POST …/archive and …/unarchive.
	ArchivedAt *time.Time `json:"archived_at,omitempty"`
	// TransactionalTemplateID is set on the system campaign that carries a
	// template's transactional messages (POST /api/v1/messages): it is
	// created on first use, runs from then on and is never edited,
	// launched, paused or duplicated as a campaign. Read-only.
	TransactionalTemplateID *int64 `json:"transactional_template_id,omitempty"`
	// RulesActive and RulesEnd are read-only, set in API answers: whether
	// follow-up rules fire now, and until when (settings.rules_until or 30
	// days after launch). POST /campaigns/{id}/cancel stops them, also for a
	// finished campaign.
	RulesActive bool       `json:"rules_active"`
	RulesEndAt  *time.Time `json:"rules_end,omitempty"`
	// Entry is how contacts come in: the segment at launch (default), a
	// contact event or entering the segment after launch (journey.go).
	Entry Entry `json:"entry"`
	// Reentry is "never" (default), "always" or a duration such as 720h.
	Reentry string `json:"reentry"`
	// Exit lists what takes a contact out of a triggered campaign.
	Exit []Exit `json:"exit"`
	// EndsAt is when a triggered campaign stops taking entries.
	EndsAt *time.Time `json:"ends_at"`
	// ABTest tests the variants of its step on a share of the audience
	// and sends the winner to the rest (abtest.go).
	ABTest *ABTest `json:"ab_test,omitempty"`
}

// withRulesState fills the read-only RulesActive and RulesEndAt at now,
// and hides the webhook secret (an API answer says only secret_set).
func (c Campaign) withRulesState(now time.Time) Campaign {
	c.RulesActive = len(c.Rules) > 0 && c.Status != StatusDraft && c.RulesActiveAt(now)
	c.RulesEndAt = c.RulesEnd()
	if c.Settings.Webhook != nil {
		w := *c.Settings.Webhook
		w.SecretSet, w.Secret = w.Secret != "", ""
		c.Settings.Webhook = &w
	}
	return c
}

// Address is a sender.
type Address struct {
	Name  string `json:"name"`
	Email string `json:"email"`
}

// Step is one message of a campaign: the first send or a follow-up.
type Step struct {
	Key        string `json:"key"`
	TemplateID int64  `json:"template_id"`
	// Variants are the step's versions in the campaign's A/B test (2–5).
	Variants []Variant `json:"variants,omitempty"`
}

// Rule is a follow-up rule: on an event (or a timer), when a predicate
// holds, run actions.
type Rule struct {
	Name string `json:"name"`
	On   string `json:"on"`
	When string `json:"when,omitempty"`
	// After is a timer rule's wait (no_open, no_click, no_conversion),
	// measured from the send of Step.
	After string `json:"after,omitempty"`
	// Step is the step a timer rule watches (default: the first step), and
	// for event rules, when set, limits the rule to that step's events.
	Step    string   `json:"step,omitempty"`
	Actions []Action `json:"actions"`
}

// Action is what a rule does.
type Action struct {
	Type  string `json:"type"`
	Step  string `json:"step,omitempty"`
	Delay string `json:"delay,omitempty"`
	Name  string `json:"name,omitempty"`
	Value any    `json:"value,omitempty"`
	Tag   string `json:"tag,omitempty"`
	URL   string `json:"url,omitempty"`
}

// Goal is a success metric: an expr predicate over the campaign's metrics.
type Goal struct {
	Name       string     `json:"name"`
	When       string     `json:"when"`
	TargetDate *time.Time `json:"target_date,omitempty"`
}

// Settings are the campaign's optional knobs.
type Settings struct {
	// UTM parameters appended to clicked links, when set.
	UTM *UTM `json:"utm,omitempty"`
	// ConversionWindow attributes conversions to a click this long before
	// (Go duration, default 168h).
	ConversionWindow string `json:"conversion_window,omitempty"`
	// RulesUntil is when follow-up rules stop firing (default: 30 days after
	// launch).
	RulesUntil *time.Time `json:"rules_until,omitempty"`
	// Webhook configures the webhook channel: where steps are POSTed.
	Webhook *WebhookSettings `json:"webhook,omitempty"`
	// FrequencyCap holds follow-ups back (never drops them) while the
	// contact has had Max messages of this campaign within Per.
	FrequencyCap *FrequencyCap `json:"frequency_cap,omitempty"`
	// Currency is the reporting currency (ISO 4217, e.g. EUR): the report's
	// revenue and revenue_per_recipient are in it, other currencies only in
	// revenue_by_currency. Default: the operator's PEYKAR_CURRENCY.
	Currency string `json:"currency,omitempty"`
	// Language is the language of the recipients' pages of the campaign's
	// messages (the preference centre, the unsubscribe confirmation): en
	// or fa (right to left). Default en.
	Language string `json:"language,omitempty"`
	// Holdout is the share of the audience (0 to 0.5) kept out of every
	// send of the campaign to measure its lift (campaigns/holdout).
	Holdout float64 `json:"holdout,omitempty"`
	// SendTime sends each recipient's first step at a local time of day
	// in the recipient's zone (timing_settings.go).
	SendTime *SendTime `json:"send_time,omitempty"`
	// QuietHours hold messages sent in a daily local window until it ends.
	QuietHours *QuietHours `json:"quiet_hours,omitempty"`
}

// FrequencyCap limits how often one contact hears from a campaign.
type FrequencyCap struct {
	Max int    `json:"max"`
	Per string `json:"per"` // a duration such as 24h
	// Scope is "campaign" (the default: this campaign's follow-ups) or
	// "all" (every message of every campaign counts and is capped).
	Scope string `json:"scope,omitempty"`
	// Action is what happens to a message over the cap: "hold" (the
	// default: it waits until the window allows) or "skip" (it is skipped
	// with reason frequency_cap and counted). Skip applies to scope "all".
	Action string `json:"action,omitempty"`
}

// Window parses Per.
func (f *FrequencyCap) Window() time.Duration {
	d, _ := time.ParseDuration(f.Per)
	return d
}

// WebhookSettings is the webhook channel's target, and the signing secret
// of every webhook post of the campaign (rule actions too: an email
// campaign with a webhook action holds a secret and no URL). Each request
// carries X-Peykar-Signature: sha256=HEX(HMAC-SHA256(Secret, timestamp +
// "." + body)) with the timestamp in X-Peykar-Timestamp.
//
// Secret is write-only: API answers never carry it (only SecretSet), except
// the answer to the create that generated it. Left blank on an update, the
// stored secret stays; a webhook campaign created without one gets a
// random one.
type WebhookSettings struct {
	URL string `json:"url"`
	// Kind names the webhook channel for consent and suppressions (such
	// as "sms"): a suppression on that channel, on "webhook" or on "*"
	// holds a contact back; email's do not. Default "webhook".
	Kind   string `json:"kind,omitempty"`
	Secret string `json:"secret,omitempty"`
	// SecretSet (read-only) says whether a secret is stored.
	SecretSet bool `json:"secret_set,omitempty"`
}

// NewWebhookSecret returns a random webhook signing secret.
func NewWebhookSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand panics instead)
	return "whsec_" + base64.RawURLEncoding.EncodeToString(b)
}

// DefaultRulesWindow is how long rules keep firing after launch.
const DefaultRulesWindow = 30 * 24 * time.Hour

// RulesActiveAt reports whether rules still fire at t.
func (c *Campaign) RulesActiveAt(t time.Time) bool {
	if c.Status == StatusCancelled || c.Status == StatusDraft {
		return false
	}
	if end := c.RulesEnd(); end != nil {
		return t.Before(*end)
	}
	return true
}

// RulesEnd is when follow-up rules stop firing: settings.rules_until, or 30
// days after sending began (LaunchedAt); nil before that without
// rules_until. A triggered campaign's rules have no default end: its
// entries keep coming, and its follow-ups with them, until it is cancelled.
func (c *Campaign) RulesEnd() *time.Time {
	if c.Settings.RulesUntil != nil {
		return c.Settings.RulesUntil
	}
	if c.Triggered() {
		return nil
	}
	if c.LaunchedAt != nil {
		end := c.LaunchedAt.Add(DefaultRulesWindow)
		return &end
	}
	return nil
}

// UTM are the parameters appended to tracked links (one type with
// tracking's: package campaigns/settings).
type UTM = settings.UTM

var stepKey = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)

var ruleEvents = map[string]bool{
	"open": true, "click": true, "unsubscribe": true, "conversion": true, "bounce": true, "sent": true,
	"no_open": true, "no_click": true, "no_conversion": true,
}

var actionTypes = map[string]bool{
	"send": true, "set_attribute": true, "add_tag": true, "remove_tag": true, "exit": true, "webhook": true,
}

// normalize fills defaults and checks everything that needs no database.
// It reports every mistake it finds (errs.All lists them), the first as
// the error itself, so the API's answer names the first as it always did.
func (c *Campaign) normalize() error {
	var p problems
	c.Name = strings.TrimSpace(c.Name)
	switch {
	case c.Name == "":
		p.add(errs.Field("name", "is required"))
	case len(c.Name) > 200:
		p.add(errs.Field("name", "is longer than 200 characters"))
	}
	if err := c.normalizeText(); err != nil {
		p.add(err)
	}
	if c.Channel == "" {
		c.Channel = ChannelEmail
	}
	if c.Channel != ChannelEmail && c.Channel != ChannelWebhook {
		p.add(errs.Field("channel", "must be %q or %q", ChannelEmail, ChannelWebhook))
	}
	c.From.Email = strings.TrimSpace(c.From.Email)
	if c.From.Email != "" {
		if err := checkAddress(c.From.Email); err != nil {
			p.add(errs.Field("from.email", "%v", err))
		}
	}
	if c.ReplyTo = strings.TrimSpace(c.ReplyTo); c.ReplyTo != "" {
		if err := checkAddress(c.ReplyTo); err != nil {
			p.add(errs.Field("reply_to", "%v", err))
		}
	}
	p.add(checkThrottle(c.ThrottlePerSecond))
	if c.Steps == nil {
		c.Steps = []Step{}
	}
	seen := c.checkSteps(&p)
	if c.Rules == nil {
		c.Rules = []Rule{}
	}
	ruleNames := map[string]bool{}
	for i, r := range c.Rules {
		f := fmt.Sprintf("rules[%d]", i)
		r.check(&p, f, seen)
		// Firings are recorded and timers find their rule by name.
		if name := strings.TrimSpace(r.Name); name != "" && ruleNames[name] {
			p.add(errs.Field(f+".name", "%q is used by another rule; rule names must be unique", name))
		} else {
			ruleNames[name] = true
		}
		if _, err := compileRuleWhen(i, r); err != nil {
			p.add(err)
		}
	}
	if c.Goals == nil {
		c.Goals = []Goal{}
	}
	collectGoals(&p, c.Goals)
	c.checkSettings(&p)
	c.checkJourney(&p)
	c.checkExperiment(&p)
	return errs.Collect(p)
}

// checkSteps checks the steps' keys and templates and returns the keys. A
// draft step may have no template yet (0): launch refuses it (checkLaunchable).
func (c *Campaign) checkSteps(p *problems) map[string]bool {
	seen := map[string]bool{}
	for i, s := range c.Steps {
		f := fmt.Sprintf("steps[%d]", i)
		switch {
		case !stepKey.MatchString(s.Key):
			p.add(errs.Field(f+".key", "must be 1–64 lower-case letters, digits, '-' or '_'"))
		case seen[s.Key]:
			p.add(errs.Field(f+".key", "%q is used twice", s.Key))
		}
		seen[s.Key] = true
		if s.TemplateID < 0 {
			p.add(errs.Field(f+".template_id", "must be a template's id (leave it out until the template is chosen)"))
		}
	}
	return seen
}

// checkSettings checks the webhook channel and the settings.
func (c *Campaign) checkSettings(p *problems) {
	if c.Channel == ChannelWebhook {
		if w := c.Settings.Webhook; w == nil || w.URL == "" {
			p.add(errs.Field("settings.webhook.url", "the webhook channel needs a URL"))
		} else {
			p.add(checkWebhookURL("settings.webhook.url", w.URL))
		}
	}
	p.add(c.Settings.checkChannelSettings())
	if fc := c.Settings.FrequencyCap; fc != nil {
		if fc.Max < 1 {
			p.add(errs.Field("settings.frequency_cap.max", "must be at least 1"))
		}
		if d, err := time.ParseDuration(fc.Per); err != nil || d <= 0 {
			p.add(errs.Field("settings.frequency_cap.per", "must be a positive duration such as 24h"))
		}
	}
	p.add(c.Settings.checkCurrency())
	p.add(c.Settings.checkHoldout())
	c.Settings.checkTiming(p)
	if _, err := settings.ParseConversionWindow(c.Settings.ConversionWindow); err != nil {
		p.add(errs.Field("settings.conversion_window", "%s", settings.ErrConversionWindow.Error()))
	}
}

// check adds the rule's mistakes (f is its field, such as rules[0]) to p.
func (r Rule) check(p *problems, f string, steps map[string]bool) {
	if strings.TrimSpace(r.Name) == "" {
		p.add(errs.Field(f+".name", "is required"))
	}
	switch {
	case ruleEvents[r.On]:
	case eventName.MatchString(r.On):
		// A contact event (signup, purchase, a custom type) belongs to no
		// delivery, and rules fire per delivery: journeys take it.
		p.add(errs.Field(f+".on", "%q is not a message event (open, click, unsubscribe, conversion, bounce, sent) or timer (no_open, no_click, no_conversion); "+
			"to start a journey on the contact event %q use the campaign's entry {\"type\":\"event\",\"event\":%q}, to end one use exit [{\"event\":%q}]",
			r.On, r.On, r.On, r.On))
	default:
		p.add(errs.Field(f+".on", "%q is not an event (open, click, unsubscribe, conversion, bounce, sent) or timer (no_open, no_click, no_conversion)", r.On))
	}
	if strings.HasPrefix(r.On, "no_") {
		if d, err := time.ParseDuration(r.After); err != nil || d <= 0 {
			p.add(errs.Field(f+".after", "a %s rule needs a positive duration such as 72h", r.On))
		}
	}
	if r.Step != "" && !steps[r.Step] {
		p.add(errs.Field(f+".step", "%q is not a step of this campaign", r.Step))
	}
	if len(r.Actions) == 0 {
		p.add(errs.Field(f+".actions", "at least one action is required"))
	}
	for j, a := range r.Actions {
		a.check(p, fmt.Sprintf("%s.actions[%d]", f, j), steps)
	}
}

// check adds the action's mistakes (af is its field) to p.
func (a Action) check(p *problems, af string, steps map[string]bool) {
	if !actionTypes[a.Type] {
		p.add(errs.Field(af+".type", "%q is not one of send, set_attribute, add_tag, remove_tag, exit, webhook", a.Type))
	}
	if a.Type == "send" && !steps[a.Step] {
		p.add(errs.Field(af+".step", "%q is not a step of this campaign", a.Step))
	}
	if a.Type == "set_attribute" && a.Name == "" {
		p.add(errs.Field(af+".name", "set_attribute needs the attribute's name"))
	}
	if (a.Type == "add_tag" || a.Type == "remove_tag") && a.Tag == "" {
		p.add(errs.Field(af+".tag", "%s needs a tag", a.Type))
	}
	if a.Type == "webhook" {
		if a.URL == "" {
			p.add(errs.Field(af+".url", "a webhook action needs an http(s) URL"))
		} else {
			p.add(checkWebhookURL(af+".url", a.URL))
		}
	}
	if a.Delay != "" {
		if d, err := time.ParseDuration(a.Delay); err != nil || d < 0 {
			p.add(errs.Field(af+".delay", "must be a duration such as 48h"))
		}
	}
}

func checkAddress(s string) error {
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || !strings.Contains(s[strings.LastIndexByte(s, '@')+1:], ".") {
		return fmt.Errorf("%q is not a valid email address", s)
	}
	return nil
}

// transitions lists the legal status changes by action.
var transitions = map[string]map[string]string{
	"pause":  {StatusRunning: StatusPaused},
	"resume": {StatusPaused: StatusRunning},
	// Cancelling a finished campaign stops its follow-up rules (which keep
	// firing after the first step is done, until rules_until) and skips the
	// follow-ups still queued; what was sent stays in the report.
	"cancel": {StatusScheduled: StatusCancelled, StatusRunning: StatusCancelled, StatusPaused: StatusCancelled,
		StatusFinished: StatusCancelled},
}

// next returns the status after action, or a conflict error.
func next(action, from string) (string, error) {
	to, ok := transitions[action][from]
	if !ok {
		return "", errs.New(errs.Conflict, "cannot %s a %s campaign", action, from)
	}
	return to, nil
}
