package segments

import (
	"errors"
	"fmt"
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

// Rule bounds: a rule is small, and one evaluation of its program is
// bounded in work and memory by exprbudget.
const (
	maxRuleLen   = 10000
	maxRuleNodes = 500
)

// Compiled is a segment rule compiled once and evaluated many times: in SQL
// when the whole rule belongs to the translatable subset, in Go otherwise.
type Compiled struct {
	// Rule is the source text.
	Rule    string
	all     bool        // the empty rule or `true`: every contact
	program *vm.Program // the Go path
	tree    ast.Node    // the parsed (unoptimised) tree the SQL path translates; nil when not translatable
	plan    goPlan      // what the Go path reads
	pre     []ast.Node  // on the Go path, conjuncts SQL checks first
	topics  []int64     // WithTopics: members must be subscribed to one of these
	refs    []campaignRef
}

// Translatable reports whether the rule runs as one SQL WHERE clause.
func (c *Compiled) Translatable() bool { return c.all || c.tree != nil }

// CompileSegment compiles and type-checks a segment rule. The empty rule and
// `true` select every contact. A bad rule gives an *errs.Error with Code
// errs.Invalid, Field "rule" and the 1-based Position (and Line, Column) of
// the mistake.
func CompileSegment(rule string) (*Compiled, error) {
	src := strings.TrimSpace(rule)
	if len(rule) > maxRuleLen {
		return nil, &errs.Error{Code: errs.Invalid, Field: "rule", Message: "is longer than 10000 bytes"}
	}
	c := &Compiled{Rule: rule}
	if src == "" || src == "true" {
		c.all = true
		src = "true"
	} else {
		src = rule // compile as written so positions need no adjusting
	}
	if err := exprbudget.Check(src); err != nil {
		return nil, positioned(rule, err)
	}
	program, err := expr.Compile(src, exprOptions()...)
	if err != nil {
		return nil, positioned(rule, err)
	}
	c.program = program
	if c.all {
		c.plan = goPlan{fields: map[string]bool{}}
		return c, nil
	}
	tree, err := parser.Parse(src)
	if err != nil {
		return nil, positioned(rule, err)
	}
	if err := checkBounds(rule, tree.Node); err != nil {
		return nil, err
	}
	if err := checkStrings(rule, tree.Node); err != nil {
		return nil, err
	}
	if err := checkMembers(rule, tree.Node); err != nil {
		return nil, err
	}
	terms, refs, err := collectTerms(rule, tree.Node)
	if err != nil {
		return nil, err
	}
	c.plan = planFor(tree.Node)
	c.plan.terms, c.refs = terms, refs
	if _, ok := translate(tree.Node, time.Time{}, 0); ok {
		c.tree = tree.Node
	} else {
		c.pre = prefilter(tree.Node)
	}
	return c, nil
}

func exprOptions() []expr.Option {
	return append([]expr.Option{
		// A struct value (not a pointer) lets expr load fields by index
		// rather than look them up by name on every run.
		expr.Env(segmentEnv{}),
		expr.AsBool(),
		expr.MaxNodes(maxRuleNodes),
		// No optimiser: its folds change which sub-expressions run (so which
		// type errors happen) and turn `in [...]` into a map lookup with
		// other semantics; the SQL translation mirrors the plain program.
		expr.Optimize(false),
		// A missing last event's fields read as zeros (events.go).
		expr.Patch(lastEventPatch{}),
	}, exprbudget.Options()...)
}

// positioned is the API's error for a segment that does not compile or is
// over budget (exprbudget.Check), placed in rule when err carries a
// position.
func positioned(rule string, err error) error {
	p, ok := exprpos.Of(rule, err)
	if !ok {
		return &errs.Error{Code: errs.Invalid, Field: "rule", Message: err.Error()}
	}
	return &errs.Error{Code: errs.Invalid, Field: "rule", Message: p.Message, Position: p.Position, Line: p.Line, Column: p.Column}
}

// eval runs the program for one contact; an evaluation error (a type
// mismatch on an attribute, say) means the contact does not match. An
// evaluation stopped by its budget is an error for the whole operation
// (an *errs.Error naming the contact): a count or a launch must not quietly
// leave out contacts it could not judge.
func (c *Compiled) eval(m *vm.VM, env *segmentEnv, id int64) (bool, error) {
	out, err := exprbudget.Run(m, c.program, env) // a pointer: expr reads fields through it, and nothing is copied per contact
	if err != nil {
		var ee *exprbudget.ExceededError
		if errors.As(err, &ee) {
			line, col := exprpos.LineCol(c.Rule, ee.Position)
			return false, &errs.Error{Code: errs.Invalid, Field: "rule", Position: ee.Position, Line: line, Column: col,
				Message: fmt.Sprintf("for contact #%d, %s", id, ee.Error())}
		}
		return false, nil
	}
	b, _ := out.(bool)
	return b, nil
}
