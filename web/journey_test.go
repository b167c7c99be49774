package web

import (
	"encoding/xml"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/campaigns"
)

// twoStepCampaign is a draft with a first send, a follow-up sent 48 h after
// a click on pricing (which also tags the contact), and a goal.
func twoStepCampaign(ruleName string) campaigns.Campaign {
	return campaigns.Campaign{ID: 12, Name: "Spring", Status: campaigns.StatusDraft,
		Steps: []campaigns.Step{{Key: "main", TemplateID: 2}, {Key: "offer", TemplateID: 4}},
		Rules: []campaigns.Rule{{Name: ruleName, On: "click", When: `event.link.url contains "pricing"`,
			Actions: []campaigns.Action{{Type: "send", Step: "offer", Delay: "48h"}, {Type: "add_tag", Tag: "clicked-pricing"}}}},
		Goals: []campaigns.Goal{{Name: "engagement", When: "ctr >= 0.05"}},
	}
}

func journeyInputFor(c campaigns.Campaign, rtl bool) journeyInput {
	return journeyInput{Campaign: c, Segment: "Tehran pro", Audience: 91, RTL: rtl,
		Template:  map[int64]string{2: "Welcome", 4: "Offer"},
		Steps:     map[string]campaigns.Metrics{"main": {Sent: 5, Converted: 1}, "offer": {Sent: 2}},
		Waiting:   map[string]int64{"offer": 3},
		Rules:     []campaigns.RuleCount{{Name: c.Rules[0].Name, Fired: 4, Skipped: 1}},
		EditSteps: true, EditRules: true}
}

func catalogueFor(t *testing.T, lang string) catalogue {
	t.Helper()
	msg, err := loadCatalogue(lang)
	require.NoError(t, err)
	return msg
}

// TestJourneyLayoutTwoSteps: the entry leads to the first step, the click
// rule sits on the arrow from it to the follow-up (labelled with its delay),
// the tag is a small end box, and columns run entry, step, rule, follow-up.
func TestJourneyLayoutTwoSteps(t *testing.T) {
	t.Parallel()
	msg := catalogueFor(t, "en")
	m := layoutJourney(msg, journeyInputFor(twoStepCampaign("pricing click"), false))

	nodes := map[string]*journeyNode{}
	for _, n := range m.Nodes {
		nodes[n.ID] = n
	}
	require.ElementsMatch(t, []string{"entry", "step-main", "step-offer", "rule-0", "end-0-1"}, keys(nodes))
	require.Equal(t, []int{0, 1, 2, 3, 3}, []int{nodes["entry"].Col, nodes["step-main"].Col, nodes["rule-0"].Col, nodes["step-offer"].Col, nodes["end-0-1"].Col})
	for _, pair := range [][2]string{{"entry", "step-main"}, {"step-main", "rule-0"}, {"rule-0", "step-offer"}} {
		require.Less(t, nodes[pair[0]].X, nodes[pair[1]].X, "%s is left of %s", pair[0], pair[1])
	}

	var got []string
	for _, e := range m.Edges {
		got = append(got, e.From+">"+e.To+":"+e.Label)
	}
	require.Equal(t, []string{"entry>step-main:", "step-main>rule-0:", "rule-0>step-offer:after 48h", "rule-0>end-0-1:"}, got)

	require.Equal(t, "Welcome", nodes["step-main"].Lines[0].Text, "steps show their template's name")
	require.Equal(t, []journeyStat{{"sent", 2, `["steps","offer","sent"]`}, {"waiting", 3, `["step_deliveries","offer","waiting"]`},
		{"converted", 0, `["steps","offer","converted"]`}}, nodes["step-offer"].Stats)
	require.Equal(t, []journeyStat{{"sent", 5, `["steps","main","sent"]`}, {"waiting", 0, `["step_deliveries","main","waiting"]`},
		{"converted", 1, `["steps","main","converted"]`}}, nodes["step-main"].Stats, "converted counts recipients")
	require.Equal(t, []journeyStat{{"fired", 4, `["rules",{"name":"pricing click"},"fired"]`}, {"skipped", 1, `["rules",{"name":"pricing click"},"skipped"]`}},
		nodes["rule-0"].Stats)
	require.Equal(t, []journeyLine{{Text: "on a click · any step"}, {Text: `event.link.url contains "pricing"`, Code: true}}, nodes["rule-0"].Lines)
	require.Equal(t, "add a tag: clicked-pricing", nodes["end-0-1"].Title)
	require.Equal(t, "/admin/campaigns/12/edit#f-rules[0].name", nodes["rule-0"].Href)
	require.Equal(t, "/admin/campaigns/12/edit#f-steps[1].key", nodes["step-offer"].Href)
	require.Equal(t, nodes["rule-0"].Href, nodes["end-0-1"].Href, "an action's end box opens its rule")
	require.Equal(t, nodes["step-main"].Href, m.Edges[0].Href, "the entry's arrow opens the first step")
	require.Equal(t, nodes["rule-0"].Href, m.Edges[2].Href, "the rule's arrows open the rule")
	for _, n := range m.Nodes {
		require.LessOrEqual(t, n.X+n.W, m.W)
		require.LessOrEqual(t, n.Y+n.H, m.H)
	}
}

// TestJourneyLayoutRTL mirrors the columns: the flow runs right to left,
// inside the same width.
func TestJourneyLayoutRTL(t *testing.T) {
	t.Parallel()
	msg := catalogueFor(t, "fa")
	ltr := layoutJourney(msg, journeyInputFor(twoStepCampaign("r"), false))
	rtl := layoutJourney(msg, journeyInputFor(twoStepCampaign("r"), true))
	require.Equal(t, ltr.W, rtl.W)
	for i, n := range rtl.Nodes {
		require.InDelta(t, ltr.W-ltr.Nodes[i].X-ltr.Nodes[i].W, n.X, 0.001, n.ID)
	}
	require.Greater(t, rtl.Nodes[0].X, rtl.Nodes[1].X, "the entry is right of the first step")
	svg, err := journeySVG(msg, rtl)
	require.NoError(t, err)
	require.Contains(t, string(svg), `direction="rtl"`)
	require.Contains(t, string(svg), ">ارسال</tspan>", "labels in the page's language")
	require.Contains(t, string(svg), `class="journey-code" direction="ltr"`, "expressions stay left to right")
	require.Contains(t, string(svg), `direction="ltr" unicode-bidi="embed">r</text>`, "a Latin name keeps its order")
	require.Contains(t, string(svg), `direction="rtl" unicode-bidi="embed">ورود</text>`)
}

// TestJourneySVGEscapes: names and expressions are text, never markup, and
// the SVG is well-formed XML carrying the live numbers by key.
func TestJourneySVGEscapes(t *testing.T) {
	t.Parallel()
	msg := catalogueFor(t, "en")
	c := twoStepCampaign(`<script>alert(1)</script>`)
	c.Steps[0].Key = `a"b`
	in := journeyInputFor(c, false)
	in.Segment = `</text><script>x()</script>`
	svg, err := journeySVG(msg, layoutJourney(msg, in))
	require.NoError(t, err)
	s := string(svg)
	require.NotContains(t, s, "<script")
	require.Contains(t, s, "&lt;script&gt;alert(1)&lt;/script&gt;")
	require.Contains(t, s, `data-node="rule-0"`)
	require.Regexp(t, `data-stat="fired" id="j-rule-0-fired" data-path="[^"]+">4</tspan>`, s)
	require.Regexp(t, `data-stat="waiting" id="j-step-offer-waiting" data-path="[^"]+">3</tspan>`, s)
	require.Contains(t, s, `href="/admin/campaigns/12/edit#f-rules[0].name"`)
	requireWellFormed(t, s)
	require.Contains(t, s, `>event.link.url contains &#34;pric…</text>`, "a long line is cut in its box")
	require.Contains(t, s, `event.link.url contains &#34;pricing&#34;</title>`, "and whole in its tooltip")
}

// TestJourneyMissingStepAndLoop: a draft's send to a step not typed yet is
// a red end box; a rule sending back to the first step is an arrow that
// stays inside the drawing.
func TestJourneyMissingStepAndLoop(t *testing.T) {
	t.Parallel()
	msg := catalogueFor(t, "en")
	c := twoStepCampaign("r")
	c.Rules[0].Actions = []campaigns.Action{{Type: "send", Step: "later"}}
	c.Rules = append(c.Rules, campaigns.Rule{Name: "again", On: "no_open", After: "72h", Step: "offer",
		Actions: []campaigns.Action{{Type: "send", Step: "main"}, {Type: "exit"}}})
	in := journeyInputFor(c, false)
	in.EditSteps, in.EditRules = false, false
	m := layoutJourney(msg, in)
	var missing, back *journeyNode
	for _, n := range m.Nodes {
		if n.Missing {
			missing = n
		}
		if n.Kind != "entry" {
			require.Equal(t, "#jd-", n.Href[:4], "no edit links when editing is not allowed: the read-only detail")
		}
	}
	require.NotNil(t, missing)
	require.Equal(t, "send step “later”, which doesn't exist", missing.Title)
	for _, n := range m.Nodes {
		if n.ID == "rule-1" {
			back = n
		}
	}
	require.Equal(t, []journeyLine{{Text: "on no open after the wait · after 72h"}}, back.Lines)
	var loop journeyEdge
	for _, e := range m.Edges {
		if e.From == "rule-1" && e.To == "step-main" {
			loop = e
		}
	}
	require.NotEmpty(t, loop.Path)
	require.Less(t, loop.LY, m.H)
	svg, err := journeySVG(msg, m)
	require.NoError(t, err)
	requireWellFormed(t, string(svg))
}

func keys(m map[string]*journeyNode) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func requireWellFormed(t *testing.T, s string) {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(s))
	for {
		_, err := d.Token()
		if errors.Is(err, io.EOF) {
			return
		}
		require.NoError(t, err, "the SVG is well-formed XML")
	}
}
