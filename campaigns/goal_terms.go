package campaigns

import (
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/parser"
)

// flipped is the operator with its sides swapped (5 <= ctr is ctr >= 5).
var flipped = map[string]string{">=": "<=", ">": "<", "<=": ">=", "<": ">", "==": "==", "!=": "!="}

// goalTerms lists src's `metric op number` comparisons when src is one, or
// an && of them, with m's values; nil for any other goal.
func goalTerms(src string, m Metrics) []GoalTerm {
	tree, err := parser.Parse(src)
	if err != nil {
		return nil
	}
	vals := metricValues(m)
	var terms []GoalTerm
	if !collectTerms(tree.Node, vals, &terms) {
		return nil
	}
	return terms
}

func collectTerms(n ast.Node, vals map[string]float64, out *[]GoalTerm) bool {
	b, ok := n.(*ast.BinaryNode)
	if !ok {
		return false
	}
	if b.Operator == "&&" || b.Operator == "and" {
		return collectTerms(b.Left, vals, out) && collectTerms(b.Right, vals, out)
	}
	op, ok := flipped[b.Operator]
	if !ok {
		return false
	}
	if t, ok := termOf(b.Left, b.Right, b.Operator, vals); ok {
		*out = append(*out, t)
		return true
	}
	if t, ok := termOf(b.Right, b.Left, op, vals); ok {
		*out = append(*out, t)
		return true
	}
	return false
}

// termOf is `metric op target` when metric names a metric and target is a
// number literal.
func termOf(metric, target ast.Node, op string, vals map[string]float64) (GoalTerm, bool) {
	id, ok := metric.(*ast.IdentifierNode)
	if !ok {
		return GoalTerm{}, false
	}
	v, ok := vals[id.Value]
	if !ok {
		return GoalTerm{}, false
	}
	var t float64
	switch n := target.(type) {
	case *ast.IntegerNode:
		t = float64(n.Value)
	case *ast.FloatNode:
		t = n.Value
	default:
		return GoalTerm{}, false
	}
	term := GoalTerm{Metric: id.Value, Op: op, Value: v, Target: t}
	switch op {
	case ">=":
		term.Met = v >= t
	case ">":
		term.Met = v > t
	case "<=":
		term.Met = v <= t
	case "<":
		term.Met = v < t
	case "==":
		term.Met = v == t
	case "!=":
		term.Met = v != t
	}
	return term, true
}
