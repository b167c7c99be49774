package web

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/campaigns"
)

// The rule editor posts rows; empty rows and empty actions are skipped so
// that error positions match the stored rules, and only the inputs of the
// chosen action type are read.
func TestReadRules(t *testing.T) {
	t.Parallel()
	form := url.Values{
		"rules.count":                   {"3"},
		"rules[0].actions.count":        {"1"},
		"rules[1].name":                 {"clickers"},
		"rules[1].on":                   {"click"},
		"rules[1].when":                 {` event.link.url contains "/pricing" `},
		"rules[1].actions.count":        {"4"},
		"rules[1].actions[0].type":      {"send"},
		"rules[1].actions[0].step":      {"offer"},
		"rules[1].actions[0].delay":     {"48h"},
		"rules[1].actions[0].tag":       {"ignored: not a tag action"},
		"rules[1].actions[2].type":      {"set_attribute"},
		"rules[1].actions[2].name":      {"tier"},
		"rules[1].actions[2].value":     {"3"},
		"rules[2].name":                 {"nudge"},
		"rules[2].on":                   {"no_open"},
		"rules[2].after":                {"72h"},
		"rules[2].actions.count":        {"1"},
		"rules[2].actions[0].type":      {"webhook"},
		"rules[2].actions[0].url":       {"https://hooks.example/x"},
		"rules[5].name":                 {"beyond the count: not read"},
		"rules[1].actions[3].type":      {""},
		"rules[1].actions[1].type":      {""},
		"rules[1].actions[1].tag":       {"stray"},
		"rules[0].actions[0].type":      {""},
		"rules[0].actions[0].delay":     {"1h"},
		"rules[2].actions[0].extra_bit": {"x"},
	}
	v := func(name string) string { return form.Get(name) }
	got := readRules(func(name string) string { return strings.TrimSpace(v(name)) })
	require.Equal(t, []campaigns.Rule{
		{Name: "clickers", On: "click", When: `event.link.url contains "/pricing"`, Actions: []campaigns.Action{
			{Type: "send", Step: "offer", Delay: "48h"},
			{Type: "set_attribute", Name: "tier", Value: float64(3)},
		}},
		{Name: "nudge", On: "no_open", After: "72h", Actions: []campaigns.Action{{Type: "webhook", URL: "https://hooks.example/x"}}},
	}, got)

	// A count beyond the limit is clamped, not trusted.
	require.Empty(t, readRules(func(name string) string {
		if name == "rules.count" {
			return "1000000000"
		}
		return ""
	}))
}

// A set_attribute value shown in the form reads back as the same value.
func TestAttributeValueRoundTrip(t *testing.T) {
	t.Parallel()
	for _, v := range []any{"gold", "3", "true", "null", `"quoted"`, float64(3), 2.5, true, false, nil, "", "a b"} {
		shown := showAttributeValue(v)
		back := attributeValue(shown)
		require.Equal(t, v, back, fmt.Sprintf("%#v shown as %q", v, shown))
	}
}
