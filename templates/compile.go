package templates

import (
	"bytes"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io"
	"regexp"
	"strings"
	texttemplate "text/template"
	"time"
	"unicode/utf8"

	"github.com/peykar/peykar/internal/errs"
)

// Limits on template sources.
const (
	MaxSubjectLen = 1000    // characters
	MaxBodyLen    = 1 << 20 // bytes, per body
)

// Compiled is a parsed, validated template ready to render many messages
// concurrently. Link rewriting, the tracking extras and the plain-text
// fallback are all prepared here, once, so rendering is only template
// execution.
type Compiled struct {
	tmpl    Template
	subject *texttemplate.Template
	html    *htmltemplate.Template
	text    *texttemplate.Template
	textSrc string // the text part's source, generated when tmpl.Text is empty
	links   []compiledLink
	public  []Link
}

type compiledLink struct {
	Link
	href *htmltemplate.Template // personalised links: renders `<a href="…">`
}

// Links returns the trackable links in document order (Idx from 0), for the
// campaign_links table. Personalised links are included with their href's
// template source as URL.
func (c *Compiled) Links() []Link { return append([]Link(nil), c.public...) }

// Template returns the template c was compiled from.
func (c *Compiled) Template() Template { return c.tmpl }

// TextGenerated reports whether the plain text is generated from the HTML.
func (c *Compiled) TextGenerated() bool { return c.tmpl.Text == "" }

// tidyText removes what the generated plain text's layout leaves behind
// once conditionals have rendered: spaces and tabs at line ends and more
// than one blank line in a row. It works in place and returns b shortened.
func tidyText(b []byte) []byte {
	w, newlines, spaces := 0, 0, 0
	for _, ch := range b {
		switch ch {
		case ' ', '\t':
			spaces++
			continue
		case '\n':
			spaces = 0
			if newlines++; newlines > 2 {
				continue
			}
		default:
			newlines = 0
			for ; spaces > 0; spaces-- {
				b[w] = ' '
				w++
			}
		}
		b[w] = ch
		w++
	}
	return b[:w]
}

// Compile parses and validates t and prepares it for rendering. Errors are
// *errs.Error with code Invalid, Field "subject", "html" or "text", and the
// Line and Column inside that field. Validation executes every part against
// a sample contact, so a misspelt field (.Contact.Nmae) or a wrong number of
// arguments fails here, not at send time.
func Compile(t Template) (*Compiled, error) {
	if err := checkSources(t); err != nil {
		return nil, err
	}
	c := &Compiled{tmpl: t}
	var err error
	if c.subject, err = parseText("subject", t.Subject); err != nil {
		return nil, err
	}
	// Validate the HTML as written, so errors point at the author's lines
	// and columns, before it is rewritten for tracking.
	orig, err := parseHTML("html", t.HTML)
	if err != nil {
		return nil, err
	}
	v := sampleView(c)
	if err := c.validateAuthored(v, orig); err != nil {
		return nil, err
	}
	rewritten, links, hrefs := rewriteLinks(t.HTML)
	if t.Text != "" {
		// Validate the text as written, then track its URLs that the HTML links.
		authored, err := parseText("text", t.Text)
		if err != nil {
			return nil, err
		}
		if err := execSample(v, func(w io.Writer) error { return authored.Execute(w, v) }, nil); err != nil {
			return nil, fieldError("text", t.Text, err)
		}
		c.textSrc = trackTextLinks(t.Text, links)
	} else {
		c.textSrc = plainText(rewritten)
	}
	if c.text, err = parseText("text", c.textSrc); err != nil {
		if t.Text == "" {
			return nil, generatedTextError(err)
		}
		return nil, err
	}
	for i, l := range links {
		cl := compiledLink{Link: l}
		if l.Personalised {
			if cl.href, err = parseHTML("html", hrefPrefix+hrefs[i]+hrefSuffix); err != nil {
				return nil, fieldError("html", t.HTML, err)
			}
		}
		c.links = append(c.links, cl)
		c.public = append(c.public, l)
	}
	if c.html, err = parseHTML("html", withTrackingExtras(rewritten)); err != nil {
		return nil, fmt.Errorf("compile tracked html: %w", err)
	}
	if err := c.validateCompiled(v); err != nil {
		return nil, err
	}
	return c, nil
}

func checkSources(t Template) error {
	switch {
	case strings.TrimSpace(t.Subject) == "":
		return errs.Field("subject", "is required")
	case utf8.RuneCountInString(t.Subject) > MaxSubjectLen:
		return errs.Field("subject", "is longer than %d characters", MaxSubjectLen)
	case strings.TrimSpace(t.HTML) == "":
		return errs.Field("html", "is required")
	case len(t.HTML) > MaxBodyLen:
		return errs.Field("html", "is larger than %d bytes", MaxBodyLen)
	case len(t.Text) > MaxBodyLen:
		return errs.Field("text", "is larger than %d bytes", MaxBodyLen)
	}
	for field, s := range map[string]string{"subject": t.Subject, "html": t.HTML, "text": t.Text} {
		if !utf8.ValidString(s) {
			return errs.Field(field, "is not valid UTF-8")
		}
	}
	return nil
}

func parseText(field, src string) (*texttemplate.Template, error) {
	t, err := texttemplate.New(field).Funcs(funcs()).Option("missingkey=error").Parse(src)
	if err != nil {
		return nil, fieldError(field, src, err)
	}
	if err := single(len(t.Templates())); err != nil {
		return nil, fieldError(field, src, err)
	}
	if err := checkFields(t.Tree, src); err != nil {
		return nil, fieldError(field, src, err)
	}
	if err := bind(t.Tree); err != nil {
		return nil, fieldError(field, src, err)
	}
	return t, nil
}

func parseHTML(field, src string) (*htmltemplate.Template, error) {
	t, err := htmltemplate.New(field).Funcs(funcs()).Option("missingkey=error").Parse(src)
	if err != nil {
		return nil, fieldError(field, src, err)
	}
	if err := single(len(t.Templates())); err != nil {
		return nil, fieldError(field, src, err)
	}
	if err := checkFields(t.Tree, src); err != nil {
		return nil, fieldError(field, src, err)
	}
	if err := bind(t.Tree); err != nil {
		return nil, fieldError(field, src, err)
	}
	return t, nil
}

func single(n int) error {
	if n > 1 {
		return errors.New("sub-templates ({{ define }}, {{ block }}) are not supported")
	}
	return nil
}

func generatedTextError(err error) error {
	var e *errs.Error
	if errors.As(err, &e) {
		e.Message = "the plain text generated from the HTML does not parse (" + e.Message + "); write the text part yourself"
		e.Line, e.Column = 0, 0
	}
	return err
}

// trackingExtras is the honeypot link and the open pixel, added before
// </body> (or at the end) when a message is rendered with a tracker.
const trackingExtras = `{{ if peykar_tracking $ }}<a href="{{ peykar_honeypot $ }}" style="display:none" aria-hidden="true" tabindex="-1"></a>` +
	`<img src="{{ peykar_open $ }}" width="1" height="1" alt="" style="display:none">{{ end }}`

var bodyEndRE = regexp.MustCompile(`(?i)</body\s*>`)

func withTrackingExtras(src string) string {
	locs := bodyEndRE.FindAllStringIndex(src, -1)
	if len(locs) == 0 {
		return src + trackingExtras
	}
	at := locs[len(locs)-1][0]
	return src[:at] + trackingExtras + src[at:]
}

// sampleTime is the sample contact's creation time.
var sampleTime = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

func sampleView(c *Compiled) *view {
	return &view{
		Contact: Contact{ID: 1, Email: "sample@example.com", Name: "Sample", Attributes: map[string]any{},
			Tags: []string{"sample"}, CreatedAt: sampleTime},
		Campaign:   Campaign{ID: 1, Name: "Sample campaign"},
		c:          c,
		validating: true,
	}
}

// validateAuthored executes the subject and the HTML as written against a
// sample contact. Attributes the template reads directly
// (.Contact.Attributes.x) are added to the sample as they are found
// missing; errors that depend on attribute values (a comparison, a helper
// rejecting the sample value) are left to render time, while misspelt
// fields and wrong argument counts fail here.
func (c *Compiled) validateAuthored(v *view, orig *htmltemplate.Template) error {
	var subject bytes.Buffer
	if err := execSample(v, func(w io.Writer) error { return c.subject.Execute(w, v) }, &subject); err != nil {
		return fieldError("subject", c.tmpl.Subject, err)
	}
	if i := strings.IndexAny(subject.String(), "\r\n"); i >= 0 {
		e := errs.Field("subject", "must be a single line")
		if k := strings.IndexAny(c.tmpl.Subject, "\r\n"); k >= 0 {
			e.Line, e.Column = lineCol(c.tmpl.Subject, k)
		}
		return e
	}
	if err := execSample(v, func(w io.Writer) error { return orig.Execute(w, v) }, nil); err != nil {
		return fieldError("html", c.tmpl.HTML, err)
	}
	return nil
}

// validateCompiled executes the text part, and the tracked HTML with and
// without a tracker, which also escapes it now so its first real render
// does not pay for that and any problem shows on save.
func (c *Compiled) validateCompiled(v *view) error {
	if err := execSample(v, func(w io.Writer) error { return c.text.Execute(w, v) }, nil); err != nil {
		if c.tmpl.Text == "" {
			return generatedTextError(fieldError("text", c.textSrc, err))
		}
		return fieldError("text", c.textSrc, err)
	}
	for _, tr := range []Tracker{nil, sampleTracker{}} {
		v.tr = tr
		if err := execSample(v, func(w io.Writer) error { return c.html.Execute(w, v) }, nil); err != nil {
			return fieldError("html", c.tmpl.HTML, err)
		}
	}
	v.tr = nil
	return nil
}

var missingKeyRE = regexp.MustCompile(`map has no entry for key "([^"]*)"`)

// staticErrRE matches execution errors that do not depend on attribute
// values: they fail for every recipient.
var staticErrRE = regexp.MustCompile(`can't evaluate field \w+ in type \*?templates\.|wrong number of args|is not a method but has arguments|sub-templates`)

// execSample executes against the sample view, writing the output to out
// when it is not nil.
func execSample(v *view, exec func(io.Writer) error, out *bytes.Buffer) error {
	for range 100 {
		var buf bytes.Buffer
		err := exec(&buf)
		if err == nil {
			if out != nil {
				out.Write(buf.Bytes())
			}
			return nil
		}
		msg := safeMessage(err)
		if m := missingKeyRE.FindStringSubmatch(msg); m != nil {
			if _, dup := v.Contact.Attributes[m[1]]; !dup {
				v.Contact.Attributes[m[1]] = "sample"
				continue
			}
		}
		var he *htmltemplate.Error
		if errors.As(err, &he) || staticErrRE.MatchString(msg) {
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
