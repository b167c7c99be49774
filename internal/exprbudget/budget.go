package exprbudget

import (
	"errors"
	"fmt"
	"strings"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/vm"
)

// Units is the budget of one evaluation: closure iterations weighted by the
// size of their body, plus bytes and elements read and built by functions
// and string operators. At roughly 10 ns a unit it bounds an evaluation to
// about 10 ms of work and a few megabytes of memory.
const Units = 1_000_000

// ExceededError reports an evaluation stopped by the budget.
type ExceededError struct {
	// What is the part that would have passed the budget ("repeat", "a
	// closure iteration", ...).
	What string
	// Position is the 1-based character position in the expression, 0 when
	// unknown.
	Position int
}

func (e *ExceededError) Error() string {
	msg := fmt.Sprintf("the expression exceeded its evaluation budget (%d units of work and memory)", Units)
	if e.What != "" {
		msg += " in " + e.What
	}
	if e.Position > 0 {
		msg += fmt.Sprintf(" at position %d", e.Position)
	}
	return msg
}

// errExceeded is the error a metered function panics with inside the VM;
// Run turns it into an *ExceededError with the position.
type errExceeded struct{ what string }

func (e *errExceeded) Error() string { return "evaluation budget exceeded in " + e.what }

// IsExceeded reports whether err is an evaluation stopped by the budget.
func IsExceeded(err error) bool {
	var e *ExceededError
	return errors.As(err, &e)
}

// Options returns the expr options that meter an environment's programs:
// the patcher that counts closure iterations and routes string operators
// through metered built-ins. (The built-ins themselves are metered for the
// whole process when this package is imported.)
func Options() []expr.Option {
	return []expr.Option{expr.Patch(&patcher{})}
}

// Run evaluates program on env with m under the budget. An evaluation
// stopped by the budget returns an *ExceededError; other run-time errors
// are returned as expr reports them. A panic inside the evaluation (expr
// recovers its own) never escapes.
func Run(m *vm.VM, program *vm.Program, env any) (out any, err error) {
	defer func() {
		if p := recover(); p != nil {
			out, err = nil, fmt.Errorf("expression failed: %v", p)
		}
	}()
	m.MemoryBudget = Units
	out, err = m.Run(program, env)
	if err != nil {
		return nil, budgetError(err)
	}
	return out, nil
}

// budgetError turns expr's reports of an exhausted budget (its own for
// ranges and arrays, ours for metered functions) into an *ExceededError.
func budgetError(err error) error {
	var fe *file.Error
	if !errors.As(err, &fe) {
		return err
	}
	var ours *errExceeded
	switch {
	case errors.As(err, &ours):
		return &ExceededError{What: ours.what, Position: fe.From + 1}
	case strings.Contains(fe.Message, "memory budget exceeded"):
		return &ExceededError{Position: fe.From + 1}
	}
	return err
}
