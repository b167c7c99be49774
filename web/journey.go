package web

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/peykar/peykar/campaigns"
)

// journeyInput is what the journey map is drawn from: the campaign's
// definition, names for its ids, and the live numbers of its report (read
// through their owners: tracking's rollups, engine's rule firings and
// scheduled follow-ups).
type journeyInput struct {
	Campaign campaigns.Campaign
	Segment  string           // the segment's name ("" if none)
	Audience int64            // a draft's segment size now (-1: unknown)
	Entered  int64            // a launched campaign's first-step deliveries
	Template map[int64]string // template names by id
	Steps    map[string]campaigns.Metrics
	Waiting  map[string]int64 // deliveries of each step without an outcome yet
	Rules    []campaigns.RuleCount
	// EditSteps and EditRules say whether nodes link to the editor: steps
	// of a draft, rules while the campaign can still change. Other nodes
	// link to their read-only detail on the page (#jd-{node}).
	EditSteps, EditRules bool
	RTL                  bool
	Locale               locale // writes the numbers (Persian digits in Persian)
}

// journeyNode is a box of the map: the entry, a step, a rule (the label on
// the arrow it sits on) or an action's end (tag, attribute, webhook, exit).
type journeyNode struct {
	ID         string // "entry", "step-main", "rule-0", "end-0-1"
	Kind       string // entry, step, rule, end (CSS class journey-{kind})
	Col        int
	X, Y, W, H float64
	Title      string
	Lines      []journeyLine
	Stats      []journeyStat
	Href       string // the editor at this step or rule, or its detail ("" none)
	Missing    bool   // a send to a step that does not exist (a draft)
}

// jStatsPerRow is how many live numbers share a line of a box.
const jStatsPerRow = 3

// StatRows are n's live numbers, jStatsPerRow to a line.
func (n *journeyNode) StatRows() [][]journeyStat {
	var rows [][]journeyStat
	for i := 0; i < len(n.Stats); i += jStatsPerRow {
		rows = append(rows, n.Stats[i:min(i+jStatsPerRow, len(n.Stats))])
	}
	return rows
}

// journeyLine is a line of text in a node; Code lines (expressions, keys)
// are laid out left to right whatever the page's direction.
type journeyLine struct {
	Text string
	Code bool
}

// journeyStat is a live number: Key is its data-stat name (sent, waiting,
// converted, audience, fired, skipped, failed); Path is where the report
// (as the campaign's event stream sends it) holds its value, a JSON array
// of keys in which {"name": n} picks the rule named n (web/static/journey.js
// follows it); "" for a number the stream does not carry.
type journeyStat struct {
	Key   string
	Value int64
	Path  string
}

// journeyEdge is an arrow between two nodes, with an optional label (a
// send's delay) and live numbers (the sends waiting out that delay).
type journeyEdge struct {
	ID, From, To string
	Label        string
	Stats        []journeyStat
	Href         string  // the editor or detail of the rule or step the arrow belongs to ("" none)
	Path         string  // SVG path data
	LX, LY       float64 // label position
}

// journeyMap is the laid-out diagram.
type journeyMap struct {
	W, H  float64
	Nodes []*journeyNode
	Edges []journeyEdge
	RTL   bool
	// Locale writes the live numbers and delays in the page's digits.
	Locale locale
}

// Geometry, in SVG user units (pixels at scale 1).
const (
	jNodeW, jMargin = 212.0, 16.0
	jColGap, jGap   = 64.0, 24.0 // between columns (room for a label), between boxes in a column
	jColW           = jNodeW + jColGap
	jLineH, jPad    = 16.0, 10.0
	jTextMax        = 30 // runes of a line shown in a box; the whole line is in its tooltip
)

// statPath is a live number's Path: keys (strings) and rule selectors
// ({"name": n}) into the report's JSON.
func statPath(keys ...any) string {
	b, err := json.Marshal(keys)
	if err != nil {
		return ""
	}
	return string(b)
}

// ruleSel selects the rule named name in the report's rules list.
func ruleSel(name string) map[string]string { return map[string]string{"name": name} }

// journeyEdgeDraft is an arrow before layout: its ends, label, and the
// delayed sends it carries (rule → step; "" none).
type journeyEdgeDraft struct {
	from, to, label string
	rule, step      string
}

// layoutJourney lays the campaign out in columns: the entry, then for each
// depth of follow-up its steps and, after them, the rules that watch those
// steps, each followed by what it does. A step's depth is the fewest sends
// from the first step; steps no rule sends yet follow the first.
func layoutJourney(msg catalogue, in journeyInput) journeyMap {
	m := journeyMap{RTL: in.RTL, Locale: in.Locale}
	c := in.Campaign
	launched := c.Status != campaigns.StatusDraft
	byID := map[string]*journeyNode{}
	add := func(n *journeyNode) *journeyNode {
		byID[n.ID] = n
		m.Nodes = append(m.Nodes, n)
		return n
	}
	var edges []journeyEdgeDraft
	entry := add(&journeyNode{ID: "entry", Kind: "entry", Col: 0})
	entry.Title, entry.Lines = entryLabel(msg, in)
	switch {
	case launched && len(c.Steps) > 0:
		entry.Stats = []journeyStat{{"entered", in.Entered, statPath("step_deliveries", c.Steps[0].Key, "created")}}
	case launched:
		entry.Stats = []journeyStat{{"entered", in.Entered, ""}}
	case in.Audience >= 0:
		entry.Stats = []journeyStat{{"audience", in.Audience, ""}}
	}

	depth := stepDepths(c)
	stepNode := map[string]*journeyNode{}
	for i, st := range c.Steps {
		n := add(&journeyNode{ID: "step-" + st.Key, Kind: "step", Col: 2*depth[st.Key] + 1, Title: st.Key})
		n.Lines = []journeyLine{{Text: templateLabel(msg, in.Locale, in.Template, st.TemplateID)}}
		w := in.Steps[st.Key]
		n.Stats = []journeyStat{{"sent", w.Sent, statPath("steps", st.Key, "sent")},
			{"waiting", in.Waiting[st.Key], statPath("step_deliveries", st.Key, "waiting")},
			{"converted", w.Converted, statPath("steps", st.Key, "converted")}}
		n.Href = "#jd-" + n.ID
		if in.EditSteps {
			n.Href = fmt.Sprintf("/admin/campaigns/%d/edit#f-steps[%d].key", c.ID, i)
		}
		stepNode[st.Key] = n
	}
	if len(c.Steps) > 0 {
		edges = append(edges, journeyEdgeDraft{from: "entry", to: "step-" + c.Steps[0].Key})
	}

	counts := map[string]campaigns.RuleCount{}
	for _, rc := range in.Rules {
		counts[rc.Name] = rc
	}
	for i, r := range c.Rules {
		src := ruleSource(c, r)
		col := 2
		if s, ok := stepNode[src]; ok {
			col = s.Col + 1
		}
		n := add(&journeyNode{ID: "rule-" + strconv.Itoa(i), Kind: "rule", Col: col, Title: r.Name, Lines: ruleLines(msg, in.Locale, r)})
		n.Stats = ruleStats(r, counts[r.Name])
		n.Href = "#jd-" + n.ID
		if in.EditRules {
			n.Href = fmt.Sprintf("/admin/campaigns/%d/edit#f-rules[%d].name", c.ID, i)
		}
		if _, ok := stepNode[src]; ok {
			edges = append(edges, journeyEdgeDraft{from: "step-" + src, to: n.ID})
		}
		for j, a := range r.Actions {
			if target, ok := stepNode[a.Step]; ok && a.Type == "send" {
				e := journeyEdgeDraft{from: n.ID, to: target.ID, label: msg.T("journey.now")}
				if a.Delay != "" {
					e.label = msg.T("journey.after", in.Locale.digits(a.Delay))
					if launched {
						e.rule, e.step = r.Name, a.Step
					}
				}
				edges = append(edges, e)
				continue
			}
			end := add(&journeyNode{ID: fmt.Sprintf("end-%d-%d", i, j), Kind: "end", Col: col + 1, Title: actionLabel(msg, a), Href: n.Href})
			end.Missing = a.Type == "send"
			if a.Delay != "" {
				end.Lines = []journeyLine{{Text: msg.T("journey.after", in.Locale.digits(a.Delay))}}
			}
			edges = append(edges, journeyEdgeDraft{from: n.ID, to: end.ID})
		}
	}
	if ex := exitLines(msg, in.Locale, c); len(ex) > 0 {
		add(&journeyNode{ID: "exits", Kind: "end", Col: 0, Title: msg.T("journey.map_exits"), Lines: ex})
	}
	m.place()
	for k, e := range edges {
		edge := m.edge(fmt.Sprintf("e%d", k), byID[e.from], byID[e.to], e.label)
		if e.rule != "" {
			edge.Stats = []journeyStat{{"waiting", counts[e.rule].Delayed[e.step], statPath("rules", ruleSel(e.rule), "delayed", e.step)}}
		}
		// An arrow into or out of a rule is part of that rule: it opens
		// it; the entry's arrow opens the first step.
		edge.Href = byID[e.to].Href
		if byID[e.from].Kind == "rule" {
			edge.Href = byID[e.from].Href
		}
		m.Edges = append(m.Edges, edge)
	}
	return m
}

// ruleStats are a rule's live numbers: fired and skipped, the deliveries a
// timer rule is still to check, and failures when there are any.
func ruleStats(r campaigns.Rule, rc campaigns.RuleCount) []journeyStat {
	sel := ruleSel(r.Name)
	out := []journeyStat{{"fired", rc.Fired, statPath("rules", sel, "fired")}, {"skipped", rc.Skipped, statPath("rules", sel, "skipped")}}
	if isTimerRule(r.On) {
		out = append(out, journeyStat{"waiting", rc.Waiting, statPath("rules", sel, "waiting")})
	}
	if rc.Failed > 0 {
		out = append(out, journeyStat{"failed", rc.Failed, statPath("rules", sel, "failed")})
	}
	return out
}

// stepDepths is each step's number of sends from the first step (breadth
// first over the rules' send actions); a step no rule reaches yet is 1.
func stepDepths(c campaigns.Campaign) map[string]int {
	depth := map[string]int{}
	if len(c.Steps) == 0 {
		return depth
	}
	depth[c.Steps[0].Key] = 0
	queue := []string{c.Steps[0].Key}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		for _, r := range c.Rules {
			if ruleSource(c, r) != cur {
				continue
			}
			for _, a := range r.Actions {
				if _, seen := depth[a.Step]; a.Type == "send" && a.Step != "" && !seen {
					depth[a.Step] = depth[cur] + 1
					queue = append(queue, a.Step)
				}
			}
		}
	}
	for _, st := range c.Steps {
		if _, ok := depth[st.Key]; !ok {
			depth[st.Key] = 1
		}
	}
	return depth
}

// ruleSource is the step whose events trigger r: its step when set (and
// known), else the first step (timer rules watch it; event rules without a
// step take every step's events, which the rule's box says).
func ruleSource(c campaigns.Campaign, r campaigns.Rule) string {
	for _, st := range c.Steps {
		if st.Key == r.Step && r.Step != "" {
			return st.Key
		}
	}
	if len(c.Steps) > 0 {
		return c.Steps[0].Key
	}
	return ""
}

// ruleLines are a rule box's lines: its trigger (with the wait of a timer
// rule, or "any step"), then its condition, shortened.
func ruleLines(msg catalogue, lc locale, r campaigns.Rule) []journeyLine {
	trigger := msg.T("journey.on", msg.T("rule.on."+r.On))
	switch {
	case r.After != "":
		trigger += " · " + msg.T("journey.after", lc.digits(r.After))
	case r.Step == "" && !isTimerRule(r.On):
		trigger += " · " + msg.T("journey.any_step")
	}
	lines := []journeyLine{{Text: trigger}}
	if r.When != "" {
		lines = append(lines, journeyLine{Text: r.When, Code: true})
	}
	return lines
}

func isTimerRule(on string) bool { return on == "no_open" || on == "no_click" || on == "no_conversion" }

// actionLabel names a non-send action (or a send to a missing step) for its
// end box.
func actionLabel(msg catalogue, a campaigns.Action) string {
	switch a.Type {
	case "add_tag", "remove_tag":
		return msg.T("rule.action."+a.Type) + ": " + a.Tag
	case "set_attribute":
		return msg.T("rule.action.set_attribute") + ": " + a.Name
	case "send":
		return msg.T("journey.missing_step", a.Step)
	}
	return msg.T("rule.action." + a.Type)
}

func templateLabel(msg catalogue, lc locale, names map[int64]string, id int64) string {
	if name, ok := names[id]; ok {
		return name
	}
	if id == 0 {
		return msg.T("journey.no_template")
	}
	return msg.TL(lc, "journey.template_id", id)
}

// shorten cuts s to at most n runes, marking the cut with an ellipsis.
func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// place sizes the nodes and stacks each column's nodes from the top, then
// mirrors the x axis for a right-to-left page.
func (m *journeyMap) place() {
	colY := map[int]float64{}
	cols := 0
	for _, n := range m.Nodes {
		n.W = jNodeW
		rows := 1 + len(n.Lines) + len(n.StatRows())
		n.H = float64(rows)*jLineH + 2*jPad
		n.X = jMargin + float64(n.Col)*jColW
		n.Y = jMargin + colY[n.Col]
		colY[n.Col] += n.H + jGap
		cols = max(cols, n.Col+1)
		m.H = max(m.H, n.Y+n.H+jMargin)
	}
	m.W = 2*jMargin + float64(cols)*jColW - jColGap
	if m.RTL {
		for _, n := range m.Nodes {
			n.X = m.W - n.X - n.W
		}
	}
}

// edge draws an arrow from a's side facing b to b's side facing a, as a
// curve; an arrow back to an earlier column (a loop) bends below both.
func (m *journeyMap) edge(id string, a, b *journeyNode, label string) journeyEdge {
	e := journeyEdge{ID: id, From: a.ID, To: b.ID, Label: label}
	ay, by := a.Y+a.H/2, b.Y+b.H/2
	forward := b.Col > a.Col
	ax, bx := a.X+a.W, b.X // left to right
	if m.RTL {
		ax, bx = a.X, b.X+b.W
	}
	if !forward { // back to an earlier step: leave and enter from below
		ax, ay, bx, by = a.X+a.W/2, a.Y+a.H, b.X+b.W/2, b.Y+b.H
		low := max(ay, by) + jGap
		e.Path = fmt.Sprintf("M%.1f %.1f C%.1f %.1f %.1f %.1f %.1f %.1f", ax, ay, ax, low, bx, low, bx, by)
		e.LX, e.LY = (ax+bx)/2, low-4
		m.H = max(m.H, low+jMargin)
		return e
	}
	dx := (bx - ax) / 2
	e.Path = fmt.Sprintf("M%.1f %.1f C%.1f %.1f %.1f %.1f %.1f %.1f", ax, ay, ax+dx, ay, bx-dx, by, bx, by)
	e.LX, e.LY = (ax+bx)/2, (ay+by)/2-6
	return e
}
