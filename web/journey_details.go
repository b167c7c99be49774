package web

import (
	"strconv"
	"strings"

	"github.com/peykar/peykar/campaigns"
)

// journeyDetail is a step's or a rule's read-only detail on the campaign
// page (#jd-{node}): what its node links to where it cannot be edited now,
// shown by the CSS :target rule. Its numbers carry the map's stat paths,
// so the page's stream updates them too.
type journeyDetail struct {
	ID    string // "jd-step-main", "jd-rule-0"
	Kind  string // step or rule
	Title string
	Rows  []journeyDetailRow
	Stats []journeyStat
	Edit  string // the editor at this step or rule, when it can be edited ("" none)
}

// journeyDetailRow is a labelled line of a detail; Code values
// (expressions) are laid out left to right.
type journeyDetailRow struct {
	Label, Value string
	Code         bool
}

// journeyDetails are the details of m's steps and rules, in m's order.
func journeyDetails(msg catalogue, in journeyInput, m journeyMap) []journeyDetail {
	var out []journeyDetail
	for _, n := range m.Nodes {
		d := journeyDetail{ID: "jd-" + n.ID, Kind: n.Kind, Title: n.Title, Stats: n.Stats}
		if strings.HasPrefix(n.Href, "/") {
			d.Edit = n.Href
		}
		switch n.Kind {
		case "step":
			d.Rows = []journeyDetailRow{{Label: msg.T("journey.detail.template"), Value: n.Lines[0].Text}}
		case "rule":
			r := ruleOfNode(in.Campaign, n.ID)
			if r == nil {
				continue
			}
			d.Rows = []journeyDetailRow{{Label: msg.T("journey.detail.trigger"), Value: n.Lines[0].Text}}
			if r.When != "" {
				d.Rows = append(d.Rows, journeyDetailRow{Label: msg.T("journey.detail.condition"), Value: r.When, Code: true})
			}
			for _, a := range r.Actions {
				d.Rows = append(d.Rows, journeyDetailRow{Label: msg.T("journey.detail.action"), Value: actionText(msg, in.Locale, a)})
			}
		default:
			continue
		}
		out = append(out, d)
	}
	return out
}

// ruleOfNode is the rule a "rule-{i}" node draws.
func ruleOfNode(c campaigns.Campaign, id string) *campaigns.Rule {
	for i := range c.Rules {
		if id == "rule-"+strconv.Itoa(i) {
			return &c.Rules[i]
		}
	}
	return nil
}

// actionText says what an action does, with its delay.
func actionText(msg catalogue, lc locale, a campaigns.Action) string {
	s := actionLabel(msg, a)
	if a.Type == "send" {
		s = msg.T("journey.action_send", a.Step)
	}
	if a.Delay != "" {
		s += " · " + msg.T("journey.after", lc.digits(a.Delay))
	}
	return s
}
