package campaigns

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/internal/errs"
)

// validCampaign is a campaign normalize accepts, using every part: two
// steps, a rule of each action type, a goal and every setting.
func validCampaign() Campaign {
	return Campaign{
		Name:    "Spring sale",
		From:    Address{Name: "Shop", Email: "news@shop.example"},
		ReplyTo: "help@shop.example",
		Steps:   []Step{{Key: "first", TemplateID: 1}, {Key: "reminder", TemplateID: 2}},
		Rules: []Rule{
			{Name: "opened", On: "open", When: "event.type == 'open'", Actions: []Action{
				{Type: "send", Step: "reminder", Delay: "48h"},
				{Type: "set_attribute", Name: "engaged", Value: true},
				{Type: "add_tag", Tag: "opened"},
				{Type: "remove_tag", Tag: "cold"},
				{Type: "webhook", URL: "https://hooks.example/peykar"},
			}},
			{Name: "silent", On: "no_open", After: "72h", Step: "first", Actions: []Action{{Type: "exit"}}},
		},
		Goals:             []Goal{{Name: "opens", When: "open_rate >= 0.2"}},
		ThrottlePerSecond: 10,
		Settings: Settings{
			FrequencyCap:     &FrequencyCap{Max: 2, Per: "24h"},
			Currency:         " usd ",
			ConversionWindow: "72h",
		},
	}
}

func TestNormalizeAcceptsAndFillsDefaults(t *testing.T) {
	t.Parallel()
	c := validCampaign()
	c.Name = "  Spring sale  "
	c.From.Email = " news@shop.example "
	require.NoError(t, c.normalize())
	require.Equal(t, "Spring sale", c.Name)
	require.Equal(t, "news@shop.example", c.From.Email)
	require.Equal(t, ChannelEmail, c.Channel, "the default channel")
	require.Equal(t, "USD", c.Settings.Currency, "currency trimmed and upper-cased")

	bare := Campaign{Name: "bare"}
	require.NoError(t, bare.normalize())
	require.Equal(t, ChannelEmail, bare.Channel)
	require.NotNil(t, bare.Steps, "steps are [] in JSON, not null")
	require.NotNil(t, bare.Rules)
	require.NotNil(t, bare.Goals)

	hook := Campaign{Name: "hook", Channel: ChannelWebhook,
		Settings: Settings{Webhook: &WebhookSettings{URL: "https://hooks.example/in"}}}
	require.NoError(t, hook.normalize())
}

// TestNormalizeRefuses walks every check of normalize and Rule.check: each
// case breaks one thing of a valid campaign and expects the field path and
// the message the marketer sees.
func TestNormalizeRefuses(t *testing.T) {
	t.Parallel()
	action := func(a Action) func(*Campaign) {
		return func(c *Campaign) { c.Rules[0].Actions = []Action{a} }
	}
	for _, tc := range []struct {
		name   string
		change func(*Campaign)
		field  string
		msg    string
	}{
		{"blank name", func(c *Campaign) { c.Name = "   " }, "name", "is required"},
		{"long name", func(c *Campaign) { c.Name = strings.Repeat("n", 201) }, "name", "is longer than 200 characters"},
		{"name on two lines", func(c *Campaign) { c.Name = "a\nb" }, "name", "must be one line"},
		{"sender name on two lines", func(c *Campaign) { c.From.Name = "a\rb" }, "from.name", "must be one line"},
		{"long sender name", func(c *Campaign) { c.From.Name = strings.Repeat("é", 201) }, "from.name", "is longer than 200 characters"},
		{"tag on two lines", action(Action{Type: "add_tag", Tag: "a\nb"}), "rules[0].actions[0].tag", "must be one line"},
		{"NUL in a goal", func(c *Campaign) { c.Goals[0].When = "open_rate >= 0.2 \x00" }, "goals[0].when", ""},
		{"unknown channel", func(c *Campaign) { c.Channel = "sms" }, "channel", `must be "email" or "webhook"`},
		{"bad sender", func(c *Campaign) { c.From.Email = "shop" }, "from.email", `"shop" is not a valid email address`},
		{"sender without a dotted domain", func(c *Campaign) { c.From.Email = "a@localhost" }, "from.email", "is not a valid email address"},
		{"sender with a display name", func(c *Campaign) { c.From.Email = "Shop <a@shop.example>" }, "from.email", "is not a valid email address"},
		{"bad reply-to", func(c *Campaign) { c.ReplyTo = "help@" }, "reply_to", `"help@" is not a valid email address`},
		{"negative throttle", func(c *Campaign) { c.ThrottlePerSecond = -1 }, "throttle_per_second", RateMessage},
		{"step key with a space", func(c *Campaign) { c.Steps[0].Key = "First step" }, "steps[0].key", "must be 1–64 lower-case letters"},
		{"empty step key", func(c *Campaign) { c.Steps[1].Key = "" }, "steps[1].key", "must be 1–64 lower-case letters"},
		{"step key used twice", func(c *Campaign) { c.Steps[1].Key = "first" }, "steps[1].key", `"first" is used twice`},
		{"step with a negative template id", func(c *Campaign) { c.Steps[1].TemplateID = -1 }, "steps[1].template_id", "must be a template's id"},
		{"rule without name", func(c *Campaign) { c.Rules[1].Name = " " }, "rules[1].name", "is required"},
		{"rule on an unknown event", func(c *Campaign) { c.Rules[0].On = "Hover!" }, "rules[0].on", `"Hover!" is not an event`},
		{"rule on a contact event", func(c *Campaign) { c.Rules[0].On = "signup" }, "rules[0].on", `use the campaign's entry {"type":"event","event":"signup"}`},
		{"timer rule without wait", func(c *Campaign) { c.Rules[1].After = "" }, "rules[1].after", "a no_open rule needs a positive duration such as 72h"},
		{"timer rule with negative wait", func(c *Campaign) { c.Rules[1].After = "-1h" }, "rules[1].after", "a no_open rule needs a positive duration"},
		{"timer rule with a day count", func(c *Campaign) { c.Rules[1].After = "3d" }, "rules[1].after", "a no_open rule needs a positive duration"},
		{"rule on an unknown step", func(c *Campaign) { c.Rules[1].Step = "last" }, "rules[1].step", `"last" is not a step of this campaign`},
		{"rule without actions", func(c *Campaign) { c.Rules[1].Actions = nil }, "rules[1].actions", "at least one action is required"},
		{"unknown action", action(Action{Type: "email"}), "rules[0].actions[0].type", `"email" is not one of send, set_attribute`},
		{"send of an unknown step", action(Action{Type: "send", Step: "last"}), "rules[0].actions[0].step", `"last" is not a step of this campaign`},
		{"set_attribute without name", action(Action{Type: "set_attribute", Value: 1}), "rules[0].actions[0].name", "set_attribute needs the attribute's name"},
		{"add_tag without tag", action(Action{Type: "add_tag"}), "rules[0].actions[0].tag", "add_tag needs a tag"},
		{"remove_tag without tag", action(Action{Type: "remove_tag"}), "rules[0].actions[0].tag", "remove_tag needs a tag"},
		{"webhook action without URL", action(Action{Type: "webhook"}), "rules[0].actions[0].url", "a webhook action needs an http(s) URL"},
		{"webhook action to ftp", action(Action{Type: "webhook", URL: "ftp://hooks.example/x"}), "rules[0].actions[0].url", ""},
		{"unparsable delay", action(Action{Type: "exit", Delay: "soon"}), "rules[0].actions[0].delay", "must be a duration such as 48h"},
		{"negative delay", action(Action{Type: "exit", Delay: "-1h"}), "rules[0].actions[0].delay", "must be a duration such as 48h"},
		{"rule name used twice", func(c *Campaign) { c.Rules[1].Name = " opened " }, "rules[1].name", `"opened" is used by another rule`},
		{"rule predicate that does not compile", func(c *Campaign) { c.Rules[0].When = "event.type ==" }, "rules[0].when", ""},
		{"rule predicate that is not a bool", func(c *Campaign) { c.Rules[0].When = "event.value" }, "rules[0].when", ""},
		{"goal without name", func(c *Campaign) { c.Goals[0].Name = "" }, "goals[0].name", "is required"},
		{"goal without predicate", func(c *Campaign) { c.Goals[0].When = " " }, "goals[0].when", "is required"},
		{"goal name used twice", func(c *Campaign) { c.Goals = append(c.Goals, Goal{Name: "opens", When: "sent > 0"}) }, "goals[1].name", `"opens" is used twice`},
		{"goal on an unknown metric", func(c *Campaign) { c.Goals[0].When = "likes > 3" }, "goals[0].when", ""},
		{"webhook channel without settings", func(c *Campaign) { c.Channel = ChannelWebhook }, "settings.webhook.url", "the webhook channel needs a URL"},
		{"webhook channel without URL", func(c *Campaign) {
			c.Channel, c.Settings.Webhook = ChannelWebhook, &WebhookSettings{Secret: "s"}
		}, "settings.webhook.url", "the webhook channel needs a URL"},
		{"webhook channel with a bad URL", func(c *Campaign) {
			c.Channel, c.Settings.Webhook = ChannelWebhook, &WebhookSettings{URL: "mailto:a@b.example"}
		}, "settings.webhook.url", ""},
		{"frequency cap of zero", func(c *Campaign) { c.Settings.FrequencyCap.Max = 0 }, "settings.frequency_cap.max", "must be at least 1"},
		{"frequency cap without window", func(c *Campaign) { c.Settings.FrequencyCap.Per = "" }, "settings.frequency_cap.per", "must be a positive duration such as 24h"},
		{"frequency cap with negative window", func(c *Campaign) { c.Settings.FrequencyCap.Per = "-24h" }, "settings.frequency_cap.per", "must be a positive duration"},
		{"currency name", func(c *Campaign) { c.Settings.Currency = "euro" }, "settings.currency", "must be a three-letter currency code such as EUR"},
		{"conversion window in days", func(c *Campaign) { c.Settings.ConversionWindow = "7d" }, "settings.conversion_window", "must be a positive duration such as 168h"},
		{"zero conversion window", func(c *Campaign) { c.Settings.ConversionWindow = "0s" }, "settings.conversion_window", "must be a positive duration"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := validCampaign()
			tc.change(&c)
			field, msg := invalidField(t, c)
			require.Equal(t, tc.field, field, "message: %s", msg)
			require.Contains(t, msg, tc.msg)
			require.NotEmpty(t, msg)
		})
	}
}

// TestRulesWindow: rules fire from launch until rules_until or 30 days
// after launch, never for a draft or cancelled campaign.
func TestRulesWindow(t *testing.T) {
	t.Parallel()
	launched := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	until := launched.Add(48 * time.Hour)
	for _, tc := range []struct {
		name   string
		c      Campaign
		at     time.Time
		active bool
		end    *time.Time
	}{
		{"draft", Campaign{Status: StatusDraft, LaunchedAt: &launched}, launched, false, ptr(launched.Add(DefaultRulesWindow))},
		{"cancelled", Campaign{Status: StatusCancelled, LaunchedAt: &launched}, launched, false, ptr(launched.Add(DefaultRulesWindow))},
		{"scheduled, not launched", Campaign{Status: StatusScheduled}, launched, true, nil},
		{"running, a day in", Campaign{Status: StatusRunning, LaunchedAt: &launched}, launched.Add(24 * time.Hour), true, ptr(launched.Add(DefaultRulesWindow))},
		{"finished, last second", Campaign{Status: StatusFinished, LaunchedAt: &launched}, launched.Add(DefaultRulesWindow - time.Second), true, ptr(launched.Add(DefaultRulesWindow))},
		{"finished, window over", Campaign{Status: StatusFinished, LaunchedAt: &launched}, launched.Add(DefaultRulesWindow), false, ptr(launched.Add(DefaultRulesWindow))},
		{"rules_until first", Campaign{Status: StatusRunning, LaunchedAt: &launched, Settings: Settings{RulesUntil: &until}}, until.Add(-time.Second), true, &until},
		{"rules_until over", Campaign{Status: StatusRunning, LaunchedAt: &launched, Settings: Settings{RulesUntil: &until}}, until, false, &until},
	} {
		require.Equal(t, tc.active, tc.c.RulesActiveAt(tc.at), tc.name)
		require.Equal(t, tc.end, tc.c.RulesEnd(), tc.name)
	}
}

// TestTransitions: the status machine allows exactly the listed changes.
func TestTransitions(t *testing.T) {
	t.Parallel()
	all := []string{StatusDraft, StatusScheduled, StatusRunning, StatusPaused, StatusFinished, StatusCancelled}
	want := map[string]map[string]string{
		"pause":  {StatusRunning: StatusPaused},
		"resume": {StatusPaused: StatusRunning},
		"cancel": {StatusScheduled: StatusCancelled, StatusRunning: StatusCancelled, StatusPaused: StatusCancelled, StatusFinished: StatusCancelled},
	}
	for action, ok := range want {
		for _, from := range all {
			to, err := next(action, from)
			if exp, allowed := ok[from]; allowed {
				require.NoError(t, err, "%s a %s campaign", action, from)
				require.Equal(t, exp, to)
				continue
			}
			var e *errs.Error
			require.ErrorAs(t, err, &e, "%s a %s campaign", action, from)
			require.Equal(t, errs.Conflict, e.Code)
			require.Equal(t, "cannot "+action+" a "+from+" campaign", e.Message)
		}
	}
	_, err := next("launch", StatusDraft)
	require.Error(t, err, "an unknown action is refused")
}

func ptr[T any](v T) *T { return &v }
