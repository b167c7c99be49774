package web

import (
	"encoding/json"
	"html"
	"regexp"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/campaigns"
)

// statTag is a live number in the rendered map or details: its id, stat
// path and the value drawn.
var statTag = regexp.MustCompile(`id="([^"]+)" data-path="([^"]+)">(\d+)</`)

// lookupPath follows a stat path into a report decoded from JSON, as
// web/static/journey.js does: keys, and {"name": n} for the rule named n.
func lookupPath(v any, path []any) any {
	for _, k := range path {
		switch k := k.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case map[string]any:
			var found any
			list, _ := v.([]any)
			for _, item := range list {
				if m, ok := item.(map[string]any); ok && m["name"] == k["name"] {
					found = item
				}
			}
			v = found
		}
	}
	return v
}

// TestJourneyStatPathsFollowTheStream: every number of a launched
// campaign's map and details names where the report (as the stream sends
// it) holds it, and the value found there is the value drawn, so the
// page's script sets the same numbers the server would draw. Counts the
// report leaves out (no sends delayed yet) are drawn as 0.
func TestJourneyStatPathsFollowTheStream(t *testing.T) {
	t.Parallel()
	c := twoStepCampaign("pricing <click>")
	c.Status = campaigns.StatusRunning
	c.Steps = append(c.Steps, campaigns.Step{Key: "reminder", TemplateID: 2})
	c.Rules = append(c.Rules, campaigns.Rule{Name: "no open", On: "no_open", After: "72h",
		Actions: []campaigns.Action{{Type: "send", Step: "reminder", Delay: "24h"}}})
	r := campaigns.Report{
		Steps: map[string]campaigns.Metrics{"main": {Sent: 40, Converted: 3}, "offer": {Sent: 5}, "reminder": {}},
		StepDeliveries: map[string]campaigns.StepDeliveries{"main": {Created: 41, Waiting: 1}, "offer": {Created: 12, Waiting: 7},
			"reminder": {}},
		Rules: []campaigns.RuleCount{
			{Name: "no open", Fired: 0, Waiting: 38},
			{Name: "pricing <click>", Fired: 12, Skipped: 2, Failed: 1, Delayed: map[string]int64{"offer": 7}},
		},
	}
	raw, err := json.Marshal(r)
	require.NoError(t, err)
	var report any
	require.NoError(t, json.Unmarshal(raw, &report))

	for _, lang := range []string{"en", "fa"} {
		msg := catalogueFor(t, lang)
		in := journeyNumbers(c, r)
		in.RTL = lang == "fa"
		m := layoutJourney(msg, in)
		svg, err := journeySVG(msg, m)
		require.NoError(t, err)
		drawn := map[string]string{}
		for _, tag := range statTag.FindAllStringSubmatch(string(svg), -1) {
			id, value := tag[1], tag[3]
			require.NotContains(t, drawn, id, "ids are unique")
			drawn[id] = value
			var path []any
			require.NoError(t, json.Unmarshal([]byte(html.UnescapeString(tag[2])), &path), tag[2])
			got := lookupPath(report, path)
			if got == nil {
				got = 0.0
			}
			require.Equal(t, value, strconv.FormatFloat(got.(float64), 'f', -1, 64), "%s at %s", id, tag[2])
		}
		require.Equal(t, map[string]string{
			"j-entry-entered":  "41",
			"j-step-main-sent": "40", "j-step-main-waiting": "1", "j-step-main-converted": "3",
			"j-step-offer-sent": "5", "j-step-offer-waiting": "7", "j-step-offer-converted": "0",
			"j-step-reminder-sent": "0", "j-step-reminder-waiting": "0", "j-step-reminder-converted": "0",
			"j-rule-0-fired": "12", "j-rule-0-skipped": "2", "j-rule-0-failed": "1",
			"j-rule-1-fired": "0", "j-rule-1-skipped": "0", "j-rule-1-waiting": "38",
			"j-e2-waiting": "7", "j-e5-waiting": "0",
		}, drawn, "every number of the map is live, on its node or arrow")

		for _, d := range journeyDetails(msg, in, m) {
			require.Equal(t, "#jd-", m.byID(d.ID[3:]).Href[:4], "without the right to edit, every step and rule opens its detail")
		}
	}
}

// byID is the node with id (nil when none has it).
func (m journeyMap) byID(id string) *journeyNode {
	for _, n := range m.Nodes {
		if n.ID == id {
			return n
		}
	}
	return nil
}
