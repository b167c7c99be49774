package contacts

import (
	"github.com/expr-lang/expr/ast"

	"github.com/peykar/peykar/internal/errs"
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
	line, col := lineCol(rule, pos)
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
			v.bad, v.why = x, "ranges (..) are not allowed in segment rules"
		}
	case *ast.PredicateNode:
		inner := &predicateFinder{}
		ast.Walk(&x.Node, inner)
		if inner.found != nil {
			v.bad, v.why = inner.found, "a closure inside a closure is not allowed in segment rules"
		}
	}
}

type predicateFinder struct{ found ast.Node }

func (f *predicateFinder) Visit(n *ast.Node) {
	if p, ok := (*n).(*ast.PredicateNode); ok && f.found == nil {
		f.found = p
	}
}
