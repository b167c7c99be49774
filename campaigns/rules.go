package campaigns

import (
	"fmt"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"

	"github.com/peykar/peykar/internal/exprbudget"
	"github.com/peykar/peykar/internal/profile"
)

// RuleEnv is what a follow-up rule's `when` predicate sees.
type RuleEnv struct {
	Event    RuleEvent    `expr:"event"`
	Contact  RuleContact  `expr:"contact"`
	Delivery RuleDelivery `expr:"delivery"`
	Campaign RuleCampaign `expr:"campaign"`
	Now      time.Time    `expr:"now"`
	// DaysSince is days_since(t): whole days from t to Now (-1 for a zero
	// time). Matches sets it, so rules read the engine's clock, not the
	// wall clock.
	DaysSince func(time.Time) int `expr:"days_since"`
}

func (e *RuleEnv) daysSince(t time.Time) int {
	if t.IsZero() {
		return -1
	}
	now := e.Now
	if now.IsZero() { // an env built without a clock
		now = time.Now()
	}
	return int(now.Sub(t).Hours() / 24)
}

// RuleEvent is the event that triggered the rule.
type RuleEvent struct {
	Type  string    `expr:"type"` // open, click, unsubscribe, conversion, bounce, sent, no_open, no_click, no_conversion
	Link  RuleLink  `expr:"link"`
	Value float64   `expr:"value"`
	At    time.Time `expr:"at"`
}

// RuleLink is the clicked link.
type RuleLink struct {
	URL  string `expr:"url"`
	Name string `expr:"name"`
}

// RuleContact is the recipient: the one contact profile (contact.email,
// contact.attributes, contact.tags, contact.status…).
type RuleContact = profile.Contact

// RuleDelivery is the delivery the event belongs to.
type RuleDelivery struct {
	ID     int64     `expr:"id"`
	Step   string    `expr:"step"`
	SentAt time.Time `expr:"sent_at"`
}

// RuleCampaign is the campaign.
type RuleCampaign struct {
	ID   int64  `expr:"id"`
	Name string `expr:"name"`
}

// maxRuleNodes bounds a predicate's size (and so its run time).
const maxRuleNodes = 500

func ruleOptions() []expr.Option {
	return append([]expr.Option{
		expr.Env(RuleEnv{}),
		expr.AsBool(),
		expr.MaxNodes(maxRuleNodes),
	}, exprbudget.Options()...)
}

// CompiledRule is a rule whose predicate is compiled.
type CompiledRule struct {
	Rule
	program *vm.Program // nil: always true
}

// CompileRules compiles and type-checks every rule's `when`; an error names
// the rule, the field and the position.
func CompileRules(rules []Rule) ([]CompiledRule, error) {
	out := make([]CompiledRule, len(rules))
	for i, r := range rules {
		out[i].Rule = r
		p, err := compileRuleWhen(i, r)
		if err != nil {
			return nil, err
		}
		out[i].program = p
	}
	return out, nil
}

// compileRuleWhen compiles rule i's `when` (nil for none); the error is an
// *errs.Error for rules[i].when with the position of the mistake.
func compileRuleWhen(i int, r Rule) (*vm.Program, error) {
	if r.When == "" {
		return nil, nil
	}
	p, err := compileExpr(r.When, ruleOptions()...)
	if err != nil {
		return nil, exprError(fmt.Sprintf("rules[%d].when", i), fmt.Sprintf("rule %q", r.Name), r.When, err)
	}
	return p, nil
}

// Matches evaluates the predicate under its evaluation budget. As in a
// segment, an operation on a missing value (a nil attribute compared as a
// number, say) makes the predicate false, not an error. Any other run-time
// error (the budget spent, say) is returned, never panicked.
func (r *CompiledRule) Matches(m *vm.VM, env *RuleEnv) (ok bool, err error) {
	if r.program == nil {
		return true, nil
	}
	if env.DaysSince == nil {
		env.DaysSince = env.daysSince
	}
	out, err := exprbudget.Run(m, r.program, env)
	if missingValue(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("rule %q: %w", r.Name, err)
	}
	b, _ := out.(bool)
	return b, nil
}
