package web

import (
	"fmt"
	"html"
	"html/template"

	"github.com/peykar/peykar/campaigns"
)

// goalTerm writes one term of a goal ("Click rate is 4%, target >= 5%") in
// the page's language: the metric by its label (its expr name when it has
// none), the numbers as the metric is shown, and the operator isolated
// from the bidi algorithm, so ">=" is not mirrored into "=<" in Persian.
func goalTerm(msg catalogue, lc locale, term campaigns.GoalTerm) template.HTML {
	name := html.EscapeString(term.Metric)
	if label, ok := msg["metric."+term.Metric]; ok {
		name = html.EscapeString(label)
	} else {
		name = `<bdi dir="ltr">` + name + `</bdi>`
	}
	op := `<bdi dir="ltr" class="mono goal-op">` + html.EscapeString(term.Op) + `</bdi>`
	format := html.EscapeString(msg.T("goal.term"))
	s := fmt.Sprintf(format, name, html.EscapeString(lc.TermValue(term.Metric, term.Value)), op,
		html.EscapeString(lc.TermValue(term.Metric, term.Target)))
	return template.HTML(s) //nolint:gosec // G203: every part is escaped above
}
