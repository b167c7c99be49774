package templates

import (
	"errors"
	htmltemplate "html/template"
	"regexp"
	"strings"
	texttemplate "text/template"
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
	// htmlSrc is the HTML source prepared for tracking: tmpl.HTML with
	// htmlEdits applied.
	htmlSrc   string
	htmlEdits []edit
	links     []compiledLink
	public    []Link
	// fastSubject, fastHTML and fastText render the parts without
	// text/template when they are simple enough (see fastpath.go); nil:
	// text/template renders that part.
	fastSubject, fastHTML, fastText []fastOp
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

// Compile parses and validates t and prepares it for rendering. Errors are
// *errs.Error with code Invalid, Field "subject", "html" or "text", and the
// Line and Column inside that field. Validation executes every part against
// a sample contact, so a misspelt field (.Contact.Nmae) or a wrong number of
// arguments fails here, not at send time; so does a template that passes a
// render budget (see MaxRangeIterations) for that sample, whose error also
// wraps ErrBudget.
func Compile(t Template) (*Compiled, error) {
	c, err := compile(t)
	var e *errs.Error
	if errors.As(err, &e) {
		_ = describeBudget(t.Name, e) // rewrites e, which err wraps, in place
	}
	return c, err
}

func compile(t Template) (*Compiled, error) {
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
	rw := rewriteLinks(t.HTML)
	if t.Text != "" {
		// Validate the text as written, then track its URLs that the HTML links.
		authored, err := parseText("text", t.Text)
		if err != nil {
			return nil, err
		}
		if err := execSample(v, authored, MaxOutput, errOutput, nil); err != nil {
			return nil, fieldError("text", t.Text, err)
		}
		c.textSrc = trackTextLinks(t.Text, rw.links)
	} else {
		c.textSrc = plainText(rw.text)
	}
	if c.text, err = parseText("text", c.textSrc); err != nil {
		if t.Text == "" {
			return nil, generatedTextError(err)
		}
		return nil, err
	}
	for i, l := range rw.links {
		cl := compiledLink{Link: l}
		if l.Personalised {
			if cl.href, err = parseHref(hrefTemplate(rw.hrefs[i])); err != nil {
				return nil, fieldError("html", t.HTML, err)
			}
		}
		c.links = append(c.links, cl)
		c.public = append(c.public, l)
	}
	c.htmlEdits = withTrackingExtras(t.HTML, rw.html)
	c.htmlSrc = applyEdits(t.HTML, c.htmlEdits)
	if c.html, err = parseHTML("html", c.htmlSrc); err != nil {
		return nil, c.htmlError(err)
	}
	if err := c.validateCompiled(v); err != nil {
		return nil, err
	}
	// validateCompiled executed the HTML, so html/template has escaped its
	// tree: the fast path reads the escapers it chose.
	c.fastSubject = fastOps(c.subject.Tree, false)
	c.fastHTML = fastOps(c.html.Tree, true)
	c.fastText = fastOps(c.text.Tree, false)
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
	for _, f := range [...]struct{ field, src string }{{"subject", t.Subject}, {"html", t.HTML}, {"text", t.Text}} {
		if !utf8.ValidString(f.src) {
			return errs.Field(f.field, "is not valid UTF-8")
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
	if err := bind(t.Tree, false); err != nil {
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
	if err := bind(t.Tree, true); err != nil {
		return nil, fieldError(field, src, err)
	}
	return t, nil
}

// parseHref parses a personalised link's own template (see hrefTemplate):
// bound like the document, with "." read from the link's place (dotToVar).
func parseHref(src string) (*htmltemplate.Template, error) {
	t, err := htmltemplate.New("html").Funcs(funcs()).Option("missingkey=error").Parse(src)
	if err != nil {
		return nil, err
	}
	if err := bind(t.Tree, true); err != nil {
		return nil, err
	}
	dotToVar(t.Tree.Root)
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

// trackingExtras writes the honeypot link and the open pixel (see
// extrasFunc), added before </body> (or at the end).
const trackingExtras = `{{ peykar_extras $ }}`

var bodyEndRE = regexp.MustCompile(`(?i)</body\s*>`)

// withTrackingExtras adds to edits (of src, in order) the insertion of the
// tracking extras before the last </body>, or at the end.
func withTrackingExtras(src string, edits []edit) []edit {
	at := len(src)
	if locs := bodyEndRE.FindAllStringIndex(mask(src, findActions(src)), -1); len(locs) > 0 {
		at = locs[len(locs)-1][0]
	}
	i := len(edits)
	for i > 0 && edits[i-1].start >= at {
		i--
	}
	out := append([]edit(nil), edits[:i]...)
	out = append(out, edit{start: at, end: at, repl: trackingExtras})
	return append(out, edits[i:]...)
}

// htmlError is fieldError for the HTML prepared for tracking, placed on the
// author's source.
func (c *Compiled) htmlError(err error) *errs.Error {
	e := fieldError("html", c.htmlSrc, err)
	if e.Line > 0 && e.Field == "html" {
		off := originalOffset(byteOffset(c.htmlSrc, e.Line, e.Column), c.htmlEdits)
		e.Line, e.Column = lineCol(c.tmpl.HTML, off)
	}
	return e
}
