package templates

import (
	"bytes"
	"context"
	"errors"
	"fmt"
)

// Render budgets. Each part of a message (subject, HTML, text) renders
// under its own budget, enforced while it renders, whatever the template's
// values turn out to be: a template cannot make one render loop, allocate
// or write without bound. A part that exceeds a budget fails with an
// *errs.Error (code Invalid) that wraps ErrBudget; a template whose sample
// render on save exceeds one is refused on save.
const (
	// MaxRangeIterations caps the iterations of all {{ range }} loops of
	// one part, all loops and nesting levels summed.
	MaxRangeIterations = 10_000
	// MaxLoopSteps caps the work loops do in one part: each iteration
	// costs the number of template nodes in its body (actions, text,
	// branches, commands and arguments; a nested loop's body counts once
	// per its own iteration).
	MaxLoopSteps = 200_000
	// MaxOutput caps the rendered HTML and the rendered text, in bytes:
	// twice the source limit, so tracked URLs cannot push a template over.
	MaxOutput = 2 * MaxBodyLen
	// MaxSubjectOutput caps the rendered subject, in bytes.
	MaxSubjectOutput = 4 << 10
	// MaxLinkOutput caps a personalised link's rendered URL, in bytes.
	MaxLinkOutput = 8 << 10
	// MaxValueLen caps a string a helper (printf, print, println, html,
	// js, urlquery, upper, lower, date) takes or makes, and a string
	// passed to a method such as .Contact.CreatedAt.Format, in bytes.
	MaxValueLen = 64 << 10
	// MaxHelperBytes caps the bytes helpers make in one part, all calls
	// summed.
	MaxHelperBytes = 4 << 20
)

// ErrBudget is wrapped by every render error caused by a render budget
// (see MaxRangeIterations and the constants after it).
var ErrBudget = errors.New("render budget exceeded")

// budgetError is a render stopped by a budget; its message says which.
type budgetError struct{ msg string }

func (e *budgetError) Error() string { return e.msg }
func (e *budgetError) Unwrap() error { return ErrBudget }

var (
	errIterations = &budgetError{fmt.Sprintf("more than %d loop iterations, all loops summed", MaxRangeIterations)}
	errSteps      = &budgetError{fmt.Sprintf("loops do too much work: more than %d template steps, all loops summed", MaxLoopSteps)}
	errHelper     = &budgetError{fmt.Sprintf("helpers make more than %d bytes in all", MaxHelperBytes)}
	errOutput     = &budgetError{fmt.Sprintf("renders more than %d bytes", MaxOutput)}
	errSubject    = &budgetError{fmt.Sprintf("renders more than %d bytes", MaxSubjectOutput)}
	errLink       = &budgetError{fmt.Sprintf("a personalised link renders more than %d bytes", MaxLinkOutput)}
)

// valueTooLong is the error of a helper given or making a value longer
// than MaxValueLen.
func valueTooLong(helper string) error {
	return &budgetError{fmt.Sprintf("%s: a value longer than %d bytes", helper, MaxValueLen)}
}

// budget is one render's spending: it counts loop iterations and steps and
// the bytes helpers make, and it is the io.Writer a part renders into,
// failing once the part's output passes its cap. Every count and write
// also checks the render's context, so a cancelled render stops at its
// next loop iteration, helper call or write.
type budget struct {
	ctx  context.Context
	done <-chan struct{} // ctx.Done(); nil never fires

	spent spending // by the current part
	peak  spending // the most any part of this render has spent

	out  *bytes.Buffer
	max  int
	over *budgetError // the error when out would pass max
}

// begin starts a render under ctx.
func (b *budget) begin(ctx context.Context) {
	*b = budget{ctx: ctx, done: ctx.Done()}
}

// spending is what a part has spent of its budget.
type spending struct{ iterations, steps, made int }

// part starts a part writing to out, at most max bytes.
func (b *budget) part(out *bytes.Buffer, max int, over *budgetError) {
	b.fold()
	b.spent = spending{}
	b.out, b.max, b.over = out, max, over
}

// fold records the current part's spending in peak.
func (b *budget) fold() {
	b.peak.iterations = max(b.peak.iterations, b.spent.iterations)
	b.peak.steps = max(b.peak.steps, b.spent.steps)
	b.peak.made = max(b.peak.made, b.spent.made)
}

// alive returns the context's error once it is cancelled.
func (b *budget) alive() error {
	select {
	case <-b.done:
		return b.ctx.Err()
	default:
		return nil
	}
}

// Write appends p to the part's output, or fails when the output would
// pass its cap or the render is cancelled.
func (b *budget) Write(p []byte) (int, error) {
	if err := b.alive(); err != nil {
		return 0, err
	}
	if b.out.Len()+len(p) > b.max {
		return 0, b.over
	}
	return b.out.Write(p)
}

// WriteString is Write for a string, without copying it to a []byte.
func (b *budget) WriteString(s string) (int, error) {
	if err := b.alive(); err != nil {
		return 0, err
	}
	if b.out.Len()+len(s) > b.max {
		return 0, b.over
	}
	return b.out.WriteString(s)
}

// loop counts one iteration of a loop whose body costs weight steps.
func (b *budget) loop(weight int) error {
	if err := b.alive(); err != nil {
		return err
	}
	if b.spent.iterations+1 > MaxRangeIterations {
		return errIterations
	}
	if b.spent.steps+weight > MaxLoopSteps {
		return errSteps
	}
	b.spent.iterations++
	b.spent.steps += weight
	return nil
}

// spend counts n bytes a helper made. A nil budget (a helper called
// without the render state) counts nothing.
func (b *budget) spend(n int) error {
	if b == nil {
		return nil
	}
	if err := b.alive(); err != nil {
		return err
	}
	if b.spent.made+n > MaxHelperBytes {
		return errHelper
	}
	b.spent.made += n
	return nil
}

// loopFunc implements the count every loop body starts with (see
// countLoop): {{ $peykar_loop := peykar_loop $ weight }}.
func loopFunc(v *view, weight int) (string, error) {
	return "", v.budget.loop(weight)
}

// argFunc guards a value passed to a method ({{ .Contact.CreatedAt.Format
// x }} is rewritten to pass (peykar_arg $ x)): a string at most
// MaxValueLen long, whose result (at most a few times as long) is counted.
func argFunc(v *view, x any) (any, error) {
	if n, ok := stringLen(x); ok {
		if n > MaxValueLen {
			return nil, valueTooLong("a method argument")
		}
		if err := v.budget.spend(3 * n); err != nil {
			return nil, err
		}
	}
	return x, nil
}
