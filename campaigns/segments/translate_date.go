package segments

import (
	"time"

	"github.com/expr-lang/expr/ast"
)

// dateCompare translates `timestamp op date("YYYY-MM-DD")`, the segment
// builder's before and after. expr's date() reads such a date as midnight
// UTC, and a missing timestamp is the zero time, as on the Go path; both
// sides are instants to the microsecond, so the comparison is the same.
func (t *translator) dateCompare(x *ast.BinaryNode) (boolSQL, bool) {
	switch x.Operator {
	case "<", "<=", ">", ">=":
	default:
		return boolSQL{}, false
	}
	b, ok := x.Right.(*ast.BuiltinNode)
	if !ok || b.Name != "date" || len(b.Arguments) != 1 {
		return boolSQL{}, false
	}
	s, ok := b.Arguments[0].(*ast.StringNode)
	if !ok || !dateRe.MatchString(s.Value) {
		return boolSQL{}, false
	}
	d, err := time.Parse(time.DateOnly, s.Value)
	if err != nil {
		return boolSQL{}, false
	}
	col, ok := t.timeColumn(x.Left)
	if !ok {
		return boolSQL{}, false
	}
	return boolSQL{sql: t.timeTests(col, []timeTest{{x.Operator, d}}, " AND ")}, true
}
