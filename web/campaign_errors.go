package web

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/peykar/peykar/campaigns"
	"github.com/peykar/peykar/internal/errs"
)

// fieldProblem is one mistake in a campaign, in the page's language and in
// a marketer's words, shown next to its field.
type fieldProblem struct {
	// Field is the API's field path (rules[0].actions[0].step), which is
	// also the form field's name.
	Field   string
	Message string
	// Help links to the reference of the names an expression may use,
	// for an expression's mistake.
	Help string
}

// problemList is every mistake of a campaign form.
type problemList []fieldProblem

// Msg is the message for the form field name, or "".
func (l problemList) Msg(name string) string {
	for _, p := range l {
		if p.Field == name {
			return p.Message
		}
	}
	return ""
}

// HelpFor is the expression reference for field name's mistake, or "".
func (l problemList) HelpFor(name string) string {
	for _, p := range l {
		if p.Field == name {
			return p.Help
		}
	}
	return ""
}

// fieldPath splits rules[1].actions[0].step into its parts.
var fieldPath = regexp.MustCompile(`^(rules|steps|goals)\[(\d+)\](?:\.actions\[(\d+)\])?(?:\.(\w+))?$`)

// explainAll explains each of err's mistakes (errs.All) about cp.
func explainAll(tr func(string, ...any) string, cp *campaigns.Campaign, err error) problemList {
	var out problemList
	for _, e := range errs.All(err) {
		out = append(out, explain(tr, cp, e))
	}
	return out
}

// explain words one mistake for a marketer: from the field it names and
// the campaign as typed, so the words do not depend on the API's English.
// A mistake it has no words for keeps the API's message.
func explain(tr func(string, ...any) string, cp *campaigns.Campaign, e *errs.Error) fieldProblem {
	p := fieldProblem{Field: e.Field, Message: e.Message}
	m := fieldPath.FindStringSubmatch(e.Field)
	if m == nil {
		p.Message = explainTop(tr, cp, e)
		return p
	}
	i, _ := strconv.Atoi(m[2])
	switch m[1] {
	case "steps":
		if i < len(cp.Steps) {
			p.Message = explainStep(tr, cp.Steps[i], i, m[4], e)
		}
	case "goals":
		if i < len(cp.Goals) {
			p.Message, p.Help = explainGoal(tr, cp.Goals[i], i, m[4], e)
		}
	case "rules":
		if i >= len(cp.Rules) {
			break
		}
		r := cp.Rules[i]
		label := r.Name
		if label == "" {
			label = tr("err.rule_n", i+1)
		}
		if m[3] != "" {
			j, _ := strconv.Atoi(m[3])
			if j < len(r.Actions) {
				p.Message = explainAction(tr, label, r.Actions[j], m[4], e)
			}
			break
		}
		p.Message, p.Help = explainRule(tr, r, label, i, m[4], e)
	}
	return p
}

func explainTop(tr func(string, ...any) string, cp *campaigns.Campaign, e *errs.Error) string {
	switch e.Field {
	case "name":
		if cp.Name == "" {
			return tr("err.campaign_name")
		}
	case "from.email":
		if cp.From.Email == "" {
			return tr("err.launch_from")
		}
	case "steps":
		return tr("err.launch_steps")
	case "settings.holdout":
		return holdoutProblem(tr, e)
	case "segment_id":
		if cp.SegmentID == nil {
			return tr("err.launch_segment")
		}
		if strings.Contains(e.Message, "no contacts") {
			return tr("err.launch_segment_empty")
		}
	}
	return e.Message
}

func explainStep(tr func(string, ...any) string, s campaigns.Step, i int, attr string, e *errs.Error) string {
	label := s.Key
	if label == "" {
		label = strconv.Itoa(i + 1)
	}
	switch {
	case attr == "key" && s.Key == "":
		return tr("err.step_key_empty", i+1)
	case attr == "key" && strings.Contains(e.Message, "used twice"):
		return tr("err.step_key_twice", s.Key)
	case attr == "key":
		return tr("err.step_key_invalid", s.Key)
	case attr == "template_id" && s.TemplateID <= 0:
		return tr("err.step_template", label)
	case attr == "template_id":
		return tr("err.launch_template", label, e.Message)
	}
	return e.Message
}

func explainGoal(tr func(string, ...any) string, g campaigns.Goal, i int, attr string, e *errs.Error) (msg, help string) {
	label := g.Name
	if label == "" {
		label = tr("err.goal_n", i+1)
	}
	switch {
	case attr == "name" && strings.TrimSpace(g.Name) == "":
		return tr("err.goal_name_empty", i+1), ""
	case attr == "name":
		return tr("err.goal_name_twice", g.Name), ""
	case attr == "when" && strings.TrimSpace(g.When) == "":
		return tr("err.goal_when_empty", label), ""
	case attr == "when":
		return exprMessage(tr, "err.goal_when", "goal", label, fmt.Sprintf("goal %q", g.Name), e), exprHelpPath + "#goal"
	}
	return e.Message, ""
}

func explainRule(tr func(string, ...any) string, r campaigns.Rule, label string, i int, attr string, e *errs.Error) (msg, help string) {
	switch attr {
	case "name":
		if strings.TrimSpace(r.Name) == "" {
			return tr("err.rule_name_empty", i+1), ""
		}
		return tr("err.rule_name_twice", r.Name), ""
	case "on":
		return tr("err.rule_on", label), ""
	case "after":
		return tr("err.rule_after", label), ""
	case "step":
		return tr("err.rule_step", label, r.Step), ""
	case "actions":
		return tr("err.rule_actions", label), ""
	case "when":
		return exprMessage(tr, "err.rule_when", "rule", label, fmt.Sprintf("rule %q", r.Name), e), exprHelpPath + "#rule"
	}
	return e.Message, ""
}

func explainAction(tr func(string, ...any) string, label string, a campaigns.Action, attr string, e *errs.Error) string {
	switch attr {
	case "type":
		return tr("err.action_type", label)
	case "step":
		if a.Step == "" {
			return tr("err.action_step_empty", label)
		}
		return tr("err.action_step_missing", label, a.Step)
	case "name":
		return tr("err.action_attribute", label)
	case "tag":
		return tr("err.action_tag", label)
	case "url":
		if a.URL == "" {
			return tr("err.action_url_empty", label)
		}
		return tr("err.action_url", label, e.Message)
	case "delay":
		return tr("err.action_delay", label)
	}
	return e.Message
}

// exprMessage places an expression's mistake: "… at line 1, column 5: …"
// when its position is known. The API's message starts with what it is
// about (rule "x": …), which label already says. The compiler's words
// are put in the page's language (exprWords) for env (rule or goal).
func exprMessage(tr func(string, ...any) string, id, env, label, about string, e *errs.Error) string {
	detail := exprWords(tr, env, strings.TrimPrefix(e.Message, about+": "), true)
	if e.Line > 0 {
		return tr(id+"_at", label, e.Line, e.Column, detail)
	}
	return tr(id, label, detail)
}
