package exprbudget

import (
	"fmt"
	"strconv"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/parser"
)

// OverBudgetError is a part of an expression that is certain to pass the
// budget whatever the data, found when the expression is saved.
type OverBudgetError struct {
	// Position is the 1-based character position of the part.
	Position int
	// Message says which part and why.
	Message string
}

func (e *OverBudgetError) Error() string { return e.Message }

// Check refuses an expression with a part that is certain to pass the
// budget whatever the data: a constant range longer than the budget, a
// repeat of a known string a known number of times, closures over constant
// ranges nested so their iterations multiply past it, a constant pattern
// larger than MaxPatternSize. Call it before expr.Compile, which compiles
// constant patterns. What depends on the
// data is bounded when it runs (see Run). A source that does not parse is
// left to the compiler to report.
func Check(src string) error {
	tree, err := parser.Parse(src)
	if err != nil {
		return nil
	}
	s := &staticCheck{}
	s.size(tree.Node)
	if s.err == nil {
		return nil
	}
	return s.err
}

type staticCheck struct{ err *OverBudgetError }

// estimate is what the check knows of a value: its length when it is a
// string or array of known size (-1 unknown), and the work spent making it.
type estimate struct{ length, work int }

func (s *staticCheck) fail(n ast.Node, format string, args ...any) estimate {
	if s.err == nil {
		s.err = &OverBudgetError{Position: n.Location().From + 1, Message: fmt.Sprintf(format, args...)}
	}
	return estimate{length: -1, work: Units + 1}
}

// size walks n, returns its estimate, and records the first part past the
// budget.
func (s *staticCheck) size(n ast.Node) estimate {
	if s.err != nil {
		return estimate{length: -1}
	}
	switch x := n.(type) {
	case *ast.StringNode:
		return estimate{length: len(x.Value)}
	case *ast.IntegerNode:
		return estimate{length: -1}
	case *ast.ArrayNode:
		work := 0
		for _, e := range x.Nodes {
			work = sat(work + s.size(e).work)
		}
		return estimate{length: len(x.Nodes), work: work}
	case *ast.BinaryNode:
		return s.binary(x)
	case *ast.CallNode:
		name := ""
		if id, ok := x.Callee.(*ast.IdentifierNode); ok {
			name = id.Value
		}
		return s.call(x, name, x.Arguments)
	case *ast.BuiltinNode:
		return s.builtin(x)
	}
	work := 0
	ast.Walk(&n, childWork{s, &work, n})
	return estimate{length: -1, work: work}
}

// childWork sums the work of a node's direct children for the kinds of
// node size does not model.
type childWork struct {
	s    *staticCheck
	work *int
	root ast.Node
}

func (c childWork) Visit(n *ast.Node) {
	if *n == c.root {
		return
	}
	switch (*n).(type) {
	case *ast.BinaryNode, *ast.CallNode, *ast.BuiltinNode, *ast.ArrayNode:
		*c.work = sat(*c.work + c.s.size(*n).work)
	}
}

func (s *staticCheck) binary(x *ast.BinaryNode) estimate {
	l, r := s.size(x.Left), s.size(x.Right)
	work := sat(l.work + r.work)
	switch x.Operator {
	case "matches":
		if p, ok := x.Right.(*ast.StringNode); ok {
			if size, err := patternSize(p.Value); err == nil && size > MaxPatternSize {
				return s.fail(x, "the pattern expands to %d instructions: more than the evaluation budget allows for a pattern (%d)", size, MaxPatternSize)
			}
		}
	case "..":
		a, aok := intValue(x.Left)
		b, bok := intValue(x.Right)
		if aok && bok {
			n := max(0, b-a+1)
			if n > Units {
				return s.fail(x, "the range %d..%d has %d elements: more than the evaluation budget allows (%d)", a, b, n, Units)
			}
			return estimate{length: n, work: sat(work + n)}
		}
	case "+":
		if l.length >= 0 && r.length >= 0 {
			n := sat(l.length + r.length)
			if n > Units {
				return s.fail(x, "+ builds a string of %d bytes: more than the evaluation budget allows (%d)", n, Units)
			}
			return estimate{length: n, work: sat(work + n)}
		}
	}
	return estimate{length: -1, work: work}
}

// call estimates a call; only repeat, the one that multiplies, is modelled.
func (s *staticCheck) call(x ast.Node, name string, arguments []ast.Node) estimate {
	work := 0
	args := make([]estimate, len(arguments))
	for i, a := range arguments {
		args[i] = s.size(a)
		work = sat(work + args[i].work)
	}
	if name == "replace" && len(arguments) == 3 {
		return s.replace(x, args, work)
	}
	if name != "repeat" || len(arguments) != 2 {
		return estimate{length: -1, work: work}
	}
	n, nok := intValue(arguments[1])
	if !nok || args[0].length < 0 {
		return estimate{length: -1, work: work}
	}
	total := mul(args[0].length, max(n, 0))
	if n > 0 && args[0].length > 0 && (total > Units || n > Units) {
		return s.fail(x, "repeat builds a string of %s bytes: more than the evaluation budget allows (%d)", human(args[0].length, n), Units)
	}
	return estimate{length: total, work: sat(work + total)}
}

func (s *staticCheck) builtin(x *ast.BuiltinNode) estimate {
	var pred *ast.PredicateNode
	if len(x.Arguments) >= 2 {
		pred, _ = x.Arguments[1].(*ast.PredicateNode)
	}
	if pred == nil {
		return s.call(x, x.Name, x.Arguments)
	}
	coll := s.size(x.Arguments[0])
	work := coll.work
	if coll.length < 0 {
		for _, a := range x.Arguments[1:] {
			work = sat(work + s.size(a).work)
		}
		return estimate{length: -1, work: work}
	}
	body := s.size(pred.Node)
	per := sat(1 + countNodes(pred.Node) + body.work)
	loop := mul(coll.length, per)
	if loop > Units {
		return s.fail(x, "%s runs its closure %d times at a cost of %d each: more than the evaluation budget allows (%d)", x.Name, coll.length, per, Units)
	}
	return estimate{length: -1, work: sat(work + loop)}
}

// replace bounds replace(s, old, new) when the three lengths are known:
// old can occur at most len(s)/len(old) times (len(s)+1 times when empty).
func (s *staticCheck) replace(x ast.Node, args []estimate, work int) estimate {
	str, old, repl := args[0].length, args[1].length, args[2].length
	if str < 0 || old < 0 || repl < 0 {
		return estimate{length: -1, work: work}
	}
	n := str + 1
	if old > 0 {
		n = str / old
	}
	total := sat(str + mul(n, max(repl-old, 0)))
	if total > Units {
		return s.fail(x, "replace can build a string of %d bytes: more than the evaluation budget allows (%d)", total, Units)
	}
	return estimate{length: total, work: sat(work + total)}
}

// intValue is the value of an integer literal (possibly negated).
func intValue(n ast.Node) (int, bool) {
	switch x := n.(type) {
	case *ast.IntegerNode:
		return x.Value, true
	case *ast.UnaryNode:
		if v, ok := intValue(x.Node); ok && x.Operator == "-" {
			return -v, true
		}
	}
	return 0, false
}

// sat caps a running total so products and sums of huge estimates cannot
// overflow.
func sat(n int) int {
	if n < 0 || n > 1<<50 {
		return 1 << 50
	}
	return n
}

// mul is a saturating product of two non-negative estimates.
func mul(a, b int) int {
	if a != 0 && b > (1<<50)/a {
		return 1 << 50
	}
	return sat(a * b)
}

func human(a, b int) string {
	if a > 0 && b > (1<<50)/a {
		return "more than " + strconv.Itoa(1<<50)
	}
	return strconv.Itoa(a * b)
}
