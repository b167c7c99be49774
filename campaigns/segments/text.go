package segments

import (
	"github.com/expr-lang/expr/ast"

	"github.com/peykar/peykar/internal/errs"
	"github.com/peykar/peykar/internal/exprpos"
	"github.com/peykar/peykar/internal/safetext"
)

// checkStrings refuses a string constant holding a NUL byte (written as
// "\x00" or "\u0000" in the rule): the SQL path passes constants to
// PostgreSQL as parameters, and PostgreSQL cannot take one.
func checkStrings(rule string, tree ast.Node) error {
	v := &nulStringFinder{}
	ast.Walk(&tree, v)
	if v.found == nil {
		return nil
	}
	pos := v.found.Location().From + 1
	line, col := exprpos.LineCol(rule, pos)
	return &errs.Error{Code: errs.Invalid, Field: "rule", Message: "a string contains a NUL byte (\\u0000); no contact field can hold one",
		Position: pos, Line: line, Column: col}
}

type nulStringFinder struct{ found ast.Node }

func (f *nulStringFinder) Visit(n *ast.Node) {
	if s, ok := (*n).(*ast.StringNode); ok && f.found == nil && safetext.HasNUL(s.Value) {
		f.found = s
	}
}
