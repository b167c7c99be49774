package templates

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/peykar/peykar/internal/errs"
)

// Render is RenderContext without cancellation.
func (c *Compiled) Render(d Data, tr Tracker) (*Rendered, error) {
	return c.RenderContext(context.Background(), d, tr)
}

// RenderContext renders one message for d. With a nil tr (previews, test
// sends) links stay as written, no pixel or honeypot is added and
// unsubscribe_url is "#". A render failure (typically a missing attribute
// without a default) is an *errs.Error naming the part, line and column,
// for the sender to record; one that passes a render budget (see
// MaxRangeIterations) also wraps ErrBudget. Rendering stops at the next
// loop iteration, helper call or write once ctx is done, with an error
// wrapping ctx.Err() (not an *errs.Error: the template is not at fault).
// It never panics, and it is safe for concurrent use.
func (c *Compiled) RenderContext(ctx context.Context, d Data, tr Tracker) (*Rendered, error) {
	r, _, err := c.render(ctx, d, tr)
	return r, err
}

// render is RenderContext that also returns the most any part spent of its
// budget.
func (c *Compiled) render(ctx context.Context, d Data, tr Tracker) (r *Rendered, spent spending, err error) {
	v := viewPool.Get().(*view)
	v.reset(ctx, d, c, tr)
	v.validating = ctx.Value(sampleRenderKey{}) != nil
	buf := bufPool.Get().(*bytes.Buffer)
	defer func() {
		if p := recover(); p != nil {
			r, err = nil, fmt.Errorf("template %q: rendering failed: %v", c.tmpl.Name, p)
		}
		v.budget.fold()
		spent = v.budget.peak
		v.clear()
		viewPool.Put(v)
		if buf.Cap() <= 1<<20 {
			bufPool.Put(buf)
		}
	}()
	r = new(Rendered)

	if err := v.run(c.subject, c.fastSubject, buf, MaxSubjectOutput, errSubject); err != nil {
		return nil, spent, c.partError("subject", err)
	}
	if bytes.ContainsAny(buf.Bytes(), "\r\n") {
		return nil, spent, errs.Field("subject", "renders more than one line for contact %d", d.Contact.ID)
	}
	r.Subject = string(bytes.TrimSpace(buf.Bytes()))

	if err := v.run(c.html, c.fastHTML, buf, MaxOutput, errOutput); err != nil {
		return nil, spent, c.partError("html", err)
	}
	r.HTML = buf.String()

	if err := v.run(c.text, c.fastText, buf, MaxOutput, errOutput); err != nil {
		return nil, spent, c.partError("text", err)
	}
	text := buf.Bytes()
	if c.tmpl.Text == "" {
		text = tidyText(text)
	}
	r.Text = string(bytes.TrimSpace(text))
	return r, spent, nil
}

// sampleRenderKey marks a context whose render is of the sample contact
// (the pre-send checks): a missing attribute renders "sample", as on save.
type sampleRenderKey struct{}

// executor is a parsed text/template or html/template.
type executor interface {
	Execute(w io.Writer, data any) error
}

// run renders one part into out: on the fast path when the part has one
// (and this is not the sample render of the pre-send checks), otherwise,
// or when the fast path gives up, with text/template.
func (v *view) run(t executor, ops []fastOp, out *bytes.Buffer, max int, over *budgetError) error {
	if ops != nil && !v.validating {
		out.Reset()
		v.budget.part(out, max, over)
		if v.fast(ops) {
			return nil
		}
	}
	return v.exec(t, out, max, over)
}

// exec renders one part into out, under a fresh budget for the part.
func (v *view) exec(t executor, out *bytes.Buffer, max int, over *budgetError) error {
	out.Reset()
	v.budget.part(out, max, over)
	return t.Execute(&v.budget, v)
}

// partError turns an error rendering part field into what RenderContext
// returns.
func (c *Compiled) partError(field string, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("template %q %s: rendering stopped: %w", c.tmpl.Name, field, err)
	}
	var e *errs.Error
	switch field {
	case "html":
		e = c.htmlError(err)
	case "text":
		e = fieldError("text", c.textSrc, err)
	default:
		e = fieldError("subject", c.tmpl.Subject, err)
	}
	return describeBudget(c.tmpl.Name, e)
}

// describeBudget rewrites e when a budget stopped the render, to say what
// and where: `template "welcome" html: more than 10000 loop iterations,
// all loops summed (line 3)`. Its Err becomes ErrBudget.
func describeBudget(name string, e *errs.Error) *errs.Error {
	var be *budgetError
	if !errors.As(e.Err, &be) {
		return e
	}
	msg := e.Field + ": " + be.msg
	if name != "" {
		msg = fmt.Sprintf("template %q %s", name, msg)
	}
	if e.Line > 0 {
		msg += fmt.Sprintf(" (line %d)", e.Line)
	}
	e.Message, e.Err = msg, ErrBudget
	return e
}
