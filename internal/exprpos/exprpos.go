// Package exprpos places an error in an expr expression: segments, follow-up
// rules and goals report a mistake with its 1-based rune position, line and
// column, and this package is where those are computed, once.
package exprpos

import (
	"errors"

	"github.com/expr-lang/expr/file"

	"github.com/peykar/peykar/internal/exprbudget"
)

// Pos is where in an expression an error lies.
type Pos struct {
	// Position is the 1-based rune position in the source.
	Position int
	// Line and Column are 1-based.
	Line, Column int
	// Message is the error's own message, without the position.
	Message string
}

// Of places err in src: an expr compile or parse error (*file.Error) or an
// exprbudget save-time refusal (*exprbudget.OverBudgetError). ok is false
// for any other error (a run-time budget stop carries its Position itself:
// place it with LineCol).
func Of(src string, err error) (p Pos, ok bool) {
	var fe *file.Error
	var ob *exprbudget.OverBudgetError
	switch {
	case errors.As(err, &ob):
		p = Pos{Position: ob.Position, Message: ob.Message}
	case errors.As(err, &fe):
		p = Pos{Position: fe.From + 1, Message: fe.Message}
	default:
		return Pos{}, false
	}
	p.Line, p.Column = LineCol(src, p.Position)
	return p, true
}

// LineCol returns the 1-based line and column of the 1-based rune position
// pos in s; a position before the start is line 1, column 1, and one past
// the end is just after the last rune.
func LineCol(s string, pos int) (line, col int) {
	line, col = 1, 1
	i := 1
	for _, r := range s {
		if i >= pos {
			break
		}
		if r == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
		i++
	}
	return line, col
}
