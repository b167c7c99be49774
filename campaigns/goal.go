package campaigns

import (
	"fmt"
	"math"
	"reflect"
	"strings"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/parser"
	"github.com/expr-lang/expr/vm"

	"github.com/peykar/peykar/internal/errs"
	"github.com/peykar/peykar/internal/exprbudget"
	"github.com/peykar/peykar/internal/exprpos"
)

// maxGoalNodes bounds a goal predicate's size.
const maxGoalNodes = 200

// GoalResult is a goal's state in a report.
type GoalResult struct {
	Name       string     `json:"name"`
	When       string     `json:"when"`
	TargetDate *time.Time `json:"target_date,omitempty"`
	Met        bool       `json:"met"`
	// Progress is 1 when met; for `metric >= number` (and && of such) the
	// smallest fraction of a target reached so far; otherwise 0.
	Progress float64 `json:"progress"`
	// Status is met, pending, or missed (not met by its target date).
	Status string `json:"status"`
	// Error is set when the goal cannot be evaluated (a goal saved before
	// a metric was renamed, say); the goal then counts as not met.
	Error string `json:"error,omitempty"`
	// Terms are the goal's comparisons of a metric with a number (the
	// whole goal, or each side of an &&), with the metric's current value
	// and the target, so pages show "ctr 4.1% of 5%". Empty for other
	// goals.
	Terms []GoalTerm `json:"terms,omitempty"`
}

// GoalTerm is one `metric op number` comparison of a goal.
type GoalTerm struct {
	Metric string  `json:"metric"`
	Op     string  `json:"op"` // >=, >, <=, <, ==, != with the metric on the left
	Value  float64 `json:"value"`
	Target float64 `json:"target"`
	Met    bool    `json:"met"`
}

// GoalMetrics lists the names a goal predicate may use.
func GoalMetrics() []string {
	t := reflect.TypeFor[Metrics]()
	out := make([]string, 0, t.NumField())
	for i := range t.NumField() {
		if name := t.Field(i).Tag.Get("expr"); name != "-" {
			out = append(out, name)
		}
	}
	return out
}

// CompileGoal compiles and type-checks one goal predicate over Metrics.
// The error is an *errs.Error for field goals[i].when with the 1-based
// position of the mistake when expr reports one.
func CompileGoal(i int, g Goal) (*vm.Program, error) {
	field := fmt.Sprintf("goals[%d].when", i)
	if strings.TrimSpace(g.When) == "" {
		return nil, errs.Field(field, "is required")
	}
	opts := append([]expr.Option{expr.Env(Metrics{}), expr.AsBool(), expr.MaxNodes(maxGoalNodes)}, exprbudget.Options()...)
	p, err := compileExpr(g.When, opts...)
	if err != nil {
		return nil, exprError(field, fmt.Sprintf("goal %q", g.Name), g.When, err)
	}
	return p, nil
}

// compileExpr compiles a user's expression after refusing one that is
// certain to pass its evaluation budget.
func compileExpr(src string, opts ...expr.Option) (*vm.Program, error) {
	if err := exprbudget.Check(src); err != nil {
		return nil, err
	}
	return expr.Compile(src, opts...)
}

// exprError is the API's error for a rule or goal expression that does not
// compile, with the position of the mistake when it is known.
func exprError(field, what, src string, err error) *errs.Error {
	p, ok := exprpos.Of(src, err)
	if !ok {
		return &errs.Error{Code: errs.Invalid, Field: field, Message: fmt.Sprintf("%s: %v", what, err)}
	}
	return &errs.Error{Code: errs.Invalid, Field: field, Message: fmt.Sprintf("%s: %s", what, p.Message),
		Position: p.Position, Line: p.Line, Column: p.Column}
}

// checkGoals validates a campaign's goals when it is saved, reporting
// every mistake (errs.All).
func checkGoals(goals []Goal) error {
	var p problems
	collectGoals(&p, goals)
	return errs.Collect(p)
}

// collectGoals adds the mistakes of a campaign's goals to p.
func collectGoals(p *problems, goals []Goal) {
	seen := map[string]bool{}
	for i, g := range goals {
		name := strings.TrimSpace(g.Name)
		switch {
		case name == "":
			p.add(errs.Field(fmt.Sprintf("goals[%d].name", i), "is required"))
		case seen[name]:
			p.add(errs.Field(fmt.Sprintf("goals[%d].name", i), "%q is used twice", name))
		}
		seen[name] = true
		if _, err := CompileGoal(i, g); err != nil {
			p.add(err)
		}
	}
}

// EvaluateGoals reports each goal against m at now.
func EvaluateGoals(goals []Goal, m Metrics, now time.Time) []GoalResult {
	out := make([]GoalResult, 0, len(goals))
	for i, g := range goals {
		out = append(out, EvaluateGoal(i, g, m, now))
	}
	return out
}

// EvaluateGoal reports one goal against m at now.
func EvaluateGoal(i int, g Goal, m Metrics, now time.Time) GoalResult {
	res := GoalResult{Name: g.Name, When: g.When, TargetDate: g.TargetDate, Status: "pending"}
	p, err := CompileGoal(i, g)
	if err != nil {
		res.Error = err.Error()
	} else if out, err := exprbudget.Run(new(vm.VM), p, &m); err != nil {
		res.Error = err.Error()
	} else {
		res.Met, _ = out.(bool)
	}
	switch {
	case res.Met:
		res.Progress, res.Status = 1, "met"
	case res.Error == "":
		res.Progress = goalProgress(g.When, m)
	}
	if res.Error == "" {
		res.Terms = goalTerms(g.When, m)
	}
	if !res.Met && g.TargetDate != nil && now.After(*g.TargetDate) {
		res.Status = "missed"
	}
	return res
}

// goalProgress is the fraction of the target reached for simple goals
// (`metric >= number`, `metric > number`, `number <= metric`, and && of
// such): the smallest over the conjuncts, in [0, 1]. Other goals give 0.
func goalProgress(src string, m Metrics) float64 {
	tree, err := parser.Parse(src)
	if err != nil {
		return 0
	}
	vals := metricValues(m)
	p, ok := progressOf(tree.Node, vals)
	if !ok || math.IsNaN(p) {
		return 0
	}
	return math.Max(0, math.Min(1, p))
}

func progressOf(n ast.Node, vals map[string]float64) (float64, bool) {
	b, ok := n.(*ast.BinaryNode)
	if !ok {
		return 0, false
	}
	switch b.Operator {
	case "&&", "and":
		l, lok := progressOf(b.Left, vals)
		r, rok := progressOf(b.Right, vals)
		return math.Min(l, r), lok && rok
	case ">=", ">":
		return fraction(b.Left, b.Right, vals)
	case "<=", "<":
		return fraction(b.Right, b.Left, vals)
	}
	return 0, false
}

// fraction is metric / target for `metric >= target`.
func fraction(metric, target ast.Node, vals map[string]float64) (float64, bool) {
	id, ok := metric.(*ast.IdentifierNode)
	if !ok {
		return 0, false
	}
	v, ok := vals[id.Value]
	if !ok {
		return 0, false
	}
	var t float64
	switch n := target.(type) {
	case *ast.IntegerNode:
		t = float64(n.Value)
	case *ast.FloatNode:
		t = n.Value
	default:
		return 0, false
	}
	if t <= 0 {
		if v >= t {
			return 1, true
		}
		return 0, true
	}
	return math.Min(1, v/t), true
}

// metricValues maps each goal name to its value in m.
func metricValues(m Metrics) map[string]float64 {
	v := reflect.ValueOf(m)
	t := v.Type()
	out := make(map[string]float64, t.NumField())
	for i := range t.NumField() {
		f := v.Field(i)
		switch f.Kind() {
		case reflect.Int64:
			out[t.Field(i).Tag.Get("expr")] = float64(f.Int())
		case reflect.Float64:
			out[t.Field(i).Tag.Get("expr")] = f.Float()
		}
	}
	return out
}
