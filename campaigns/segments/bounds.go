package segments

import (
	"fmt"

	"github.com/expr-lang/expr/ast"

	"github.com/peykar/peykar/internal/errs"
	"github.com/peykar/peykar/internal/exprpos"
)

// checkBounds refuses what could make one rule cost a great deal per
// contact: ranges (`1..1000000`) and closures nested in closures (a loop
// over a loop). A rule looks at one contact; it needs neither.
func checkBounds(rule string, tree ast.Node) error {
	v := &boundsVisitor{}
	ast.Walk(&tree, v)
	if v.bad == nil {
		return nil
	}
	pos := v.bad.Location().From + 1
	line, col := exprpos.LineCol(rule, pos)
	return &errs.Error{Code: errs.Invalid, Field: "rule", Message: v.why, Position: pos, Line: line, Column: col}
}

type boundsVisitor struct {
	bad ast.Node
	why string
}

func (v *boundsVisitor) Visit(n *ast.Node) {
	if v.bad != nil {
		return
	}
	switch x := (*n).(type) {
	case *ast.BinaryNode:
		if x.Operator == ".." {
			v.bad, v.why = x, "ranges (..) are not allowed in segments"
		} else if n, ok := daysLiteral(x); ok && (n > maxDays || n < -maxDays) {
			v.bad, v.why = x, fmt.Sprintf("days_since is compared with %d days: the limit is ±%d (about 2,700 years)", n, maxDays)
		}
	case *ast.PredicateNode:
		inner := &predicateFinder{}
		ast.Walk(&x.Node, inner)
		if inner.found != nil {
			v.bad, v.why = inner.found, "a closure inside a closure is not allowed in segments"
		}
	}
}

// daysLiteral is n in a comparison of days_since(…) with the integer n.
func daysLiteral(x *ast.BinaryNode) (int, bool) {
	isDays := func(n ast.Node) bool {
		c, ok := n.(*ast.CallNode)
		if !ok {
			return false
		}
		id, ok := c.Callee.(*ast.IdentifierNode)
		return ok && id.Value == "days_since"
	}
	intOf := func(n ast.Node) (int, bool) {
		if u, ok := n.(*ast.UnaryNode); ok && u.Operator == "-" {
			if i, ok := u.Node.(*ast.IntegerNode); ok {
				return -i.Value, true
			}
		}
		i, ok := n.(*ast.IntegerNode)
		if !ok {
			return 0, false
		}
		return i.Value, true
	}
	switch x.Operator {
	case "==", "!=", "<", "<=", ">", ">=":
	default:
		return 0, false
	}
	if isDays(x.Left) {
		return intOf(x.Right)
	}
	if isDays(x.Right) {
		return intOf(x.Left)
	}
	return 0, false
}

type predicateFinder struct{ found ast.Node }

func (f *predicateFinder) Visit(n *ast.Node) {
	if p, ok := (*n).(*ast.PredicateNode); ok && f.found == nil {
		f.found = p
	}
}
