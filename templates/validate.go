package templates

import (
	"bytes"
	"context"
	"errors"
	htmltemplate "html/template"
	"regexp"
	"strings"
	"time"

	"github.com/peykar/peykar/internal/errs"
)

// sampleTime is the sample contact's creation time.
var sampleTime = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

func sampleView(c *Compiled) *view {
	v := &view{
		Contact: Contact{ID: 1, Email: "sample@example.com", Name: "Sample", Attributes: map[string]any{},
			Tags: []string{"sample"}, CreatedAt: sampleTime},
		Campaign:   Campaign{ID: 1, Name: "Sample campaign"},
		Data:       c.SampleData(),
		c:          c,
		validating: true,
	}
	v.budget.begin(context.Background())
	return v
}

// validateAuthored executes the subject and the HTML as written against a
// sample contact. Attributes the template reads directly
// (.Contact.Attributes.x) are added to the sample as they are found
// missing; errors that depend on attribute values (a comparison, a helper
// rejecting the sample value) are left to render time, while misspelt
// fields and wrong argument counts fail here.
func (c *Compiled) validateAuthored(v *view, orig *htmltemplate.Template) error {
	var subject bytes.Buffer
	if err := execSample(v, c.subject, MaxSubjectOutput, errSubject, &subject); err != nil {
		return fieldError("subject", c.tmpl.Subject, err)
	}
	if i := strings.IndexAny(subject.String(), "\r\n"); i >= 0 {
		e := errs.Field("subject", "must be a single line")
		if k := strings.IndexAny(c.tmpl.Subject, "\r\n"); k >= 0 {
			e.Line, e.Column = lineCol(c.tmpl.Subject, k)
		}
		return e
	}
	if err := execSample(v, orig, MaxOutput, errOutput, nil); err != nil {
		return fieldError("html", c.tmpl.HTML, err)
	}
	return nil
}

// validateCompiled executes the text part, and the tracked HTML with and
// without a tracker, which also escapes it now so its first real render
// does not pay for that and any problem shows on save.
func (c *Compiled) validateCompiled(v *view) error {
	if err := execSample(v, c.text, MaxOutput, errOutput, nil); err != nil {
		if c.tmpl.Text == "" {
			return generatedTextError(fieldError("text", c.textSrc, err))
		}
		return fieldError("text", c.textSrc, err)
	}
	for _, tr := range []Tracker{nil, sampleTracker{}} {
		v.tr = tr
		if err := execSample(v, c.html, MaxOutput, errOutput, nil); err != nil {
			return c.htmlError(err)
		}
	}
	v.tr = nil
	return nil
}

var missingKeyRE = regexp.MustCompile(`map has no entry for key "([^"]*)"`)

// staticErrRE matches execution errors that do not depend on attribute
// values: they fail for every recipient.
var staticErrRE = regexp.MustCompile(`can't evaluate field \w+ in type \*?templates\.|wrong number of args|is not a method but has arguments|sub-templates`)

// execSample executes t against the sample view under the render budgets,
// its output capped at max, writing the output to out when it is not nil.
// Passing a budget for the sample contact, whose data is minimal, fails on
// save. It executes again for each attribute found missing, until the
// executions together have spent twice a part's budget: what the sample
// did not reach then is checked per recipient at render time.
func execSample(v *view, t executor, max int, over *budgetError, out *bytes.Buffer) error {
	var total spending
	outTotal := 0
	for range 100 {
		var buf bytes.Buffer
		v.budget.part(&buf, max, over)
		err := t.Execute(&v.budget, v)
		s := v.budget.spent
		total = spending{total.iterations + s.iterations, total.steps + s.steps, total.made + s.made}
		outTotal += buf.Len()
		if err == nil {
			if out != nil {
				out.Write(buf.Bytes())
			}
			return nil
		}
		msg := safeMessage(err)
		if m := missingKeyRE.FindStringSubmatch(msg); m != nil {
			if _, inData := v.Data[m[1]]; !inData && v.Data != nil {
				// A message data key read in a way the sample did not
				// foresee ({{ index .Data "k" }}): sample it too.
				v.Data[m[1]] = "sample"
			}
			if _, dup := v.Contact.Attributes[m[1]]; !dup {
				if total.iterations > 2*MaxRangeIterations || total.steps > 2*MaxLoopSteps ||
					total.made > 2*MaxHelperBytes || outTotal > 2*max {
					return nil // enough spent on the sample
				}
				v.Contact.Attributes[m[1]] = "sample"
				continue
			}
		}
		var he *htmltemplate.Error
		if errors.As(err, &he) || errors.Is(err, ErrBudget) || staticErrRE.MatchString(msg) {
			return err
		}
		return nil // depends on the recipient's data: checked at render time
	}
	return nil
}

// sampleTracker makes placeholder tracking URLs for validation.
type sampleTracker struct{}

func (sampleTracker) ClickURL(idx int, _ string) string { return "https://t.invalid/c" }
func (sampleTracker) OpenURL() string                   { return "https://t.invalid/o" }
func (sampleTracker) UnsubscribeURL() string            { return "https://t.invalid/u" }
func (sampleTracker) HoneypotURL() string               { return "https://t.invalid/h" }
func (sampleTracker) PreferencesURL() string            { return "https://t.invalid/p" }
