package templates

import (
	"errors"
	htmltemplate "html/template"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/peykar/peykar/internal/errs"
)

// locRE matches the location prefix of text/template and html/template
// errors: "template: NAME:LINE[:COL]: " or "html/template:NAME:LINE[:COL]: ".
var locRE = regexp.MustCompile(`^(?:html/)?template: ?[^:]*:(\d+)(?::(\d+))?: (?:executing "[^"]*" at )?`)

// nestedLocRE matches the location of an error from a personalised link's
// own small template, nested in the document's error.
var nestedLocRE = regexp.MustCompile(`template: [^:]*:\d+(?::\d+)?: (?:executing "[^"]*" at )?`)

// quotedRE finds the first quoted word of a parse error message, used to
// locate the column of errors that report only a line.
var quotedRE = regexp.MustCompile(`"([^"]+)"`)

// internalNames maps names of the generated calls back to what the author
// wrote, so errors speak the author's language.
var internalNames = strings.NewReplacer(internalNamePairs()...)

func internalNamePairs() []string {
	pairs := []string{
		"peykar_attr_optional $", "attr", "peykar_attr_optional", "attr", "peykar_attr $", "attr", "peykar_attr", "attr",
		"peykar_unsubscribe $", "unsubscribe_url", "peykar_unsubscribe", "unsubscribe_url",
		"peykar_click $", "link", "peykar_click", "link", "peykar_href $", "link", "peykar_href", "link",
		"peykar_arg $ ", "", "peykar_arg", "a method argument", "peykar_loop", "range",
		"*templates.view", "the message data", "templates.Contact", "Contact", "templates.Campaign", "Campaign",
	}
	// Longer names first: the replacer tries pairs in order, and
	// peykar_print must not match inside peykar_printf.
	names := slices.SortedFunc(maps.Keys(boundHelpers), func(a, b string) int { return len(b) - len(a) })
	for _, name := range names {
		pairs = append(pairs, boundHelpers[name]+" $", name, boundHelpers[name], name)
	}
	return pairs
}

// fieldError turns a template error in field's source src into an
// *errs.Error with a 1-based line and column (columns count characters, not
// bytes, so they match an editor on Persian text).
func fieldError(field, src string, err error) *errs.Error {
	var de *errs.Error
	if errors.As(err, &de) {
		return de
	}
	e := &errs.Error{Code: errs.Invalid, Field: field, Err: err}
	var pe *positionError
	if errors.As(err, &pe) {
		e.Line, e.Column = lineCol(src, pe.pos)
		e.Message, e.Err = pe.msg, nil
		return e
	}
	msg := safeMessage(err)
	if m := locRE.FindStringSubmatch(msg); m != nil {
		e.Line, _ = strconv.Atoi(m[1])
		msg = msg[len(m[0]):]
		if m[2] != "" {
			col, _ := strconv.Atoi(m[2])
			e.Column = byteColToRune(src, e.Line, col)
		} else {
			e.Column = guessColumn(src, e.Line, msg)
		}
	}
	if i := strings.Index(msg, ": {state"); i >= 0 {
		msg = msg[:i] // html/template's internal escaping contexts mean nothing to an author
	}
	msg = boundArgsRE.ReplaceAllStringFunc(nestedLocRE.ReplaceAllString(msg, ""), authorArgs)
	e.Message = internalNames.Replace(msg)
	return e
}

// boundArgsRE matches an argument count error of a generated call, which
// counts the render state ($) the author did not write.
var boundArgsRE = regexp.MustCompile(`wrong number of args for peykar_\w+: want (?:at least )?\d+ got \d+`)

var argCountsRE = regexp.MustCompile(`^(.*want (?:at least )?)(\d+)( got )(\d+)$`)

// authorArgs takes the render state out of an argument count error.
func authorArgs(s string) string {
	m := argCountsRE.FindStringSubmatch(s)
	want, _ := strconv.Atoi(m[2])
	got, _ := strconv.Atoi(m[4])
	return m[1] + strconv.Itoa(max(want-1, 0)) + m[3] + strconv.Itoa(max(got-1, 0))
}

// safeMessage formats err; html/template can panic formatting an error
// about a node without a tree, so that case falls back to the description.
func safeMessage(err error) (msg string) {
	defer func() {
		if recover() != nil {
			var he *htmltemplate.Error
			if errors.As(err, &he) {
				msg = "html/template:" + he.Name + ":" + strconv.Itoa(he.Line) + ": " + he.Description
			} else {
				msg = "invalid template"
			}
		}
	}()
	return err.Error()
}

// lineCol converts a byte offset of src into a 1-based line and column.
func lineCol(src string, pos int) (int, int) {
	pos = min(max(pos, 0), len(src))
	before := src[:pos]
	line := 1 + strings.Count(before, "\n")
	start := strings.LastIndexByte(before, '\n') + 1
	return line, utf8.RuneCountInString(before[start:]) + 1
}

// byteOffset converts a 1-based line and character column of src into a
// byte offset.
func byteOffset(src string, line, col int) int {
	off := 0
	for i := 1; i < line; i++ {
		k := strings.IndexByte(src[off:], '\n')
		if k < 0 {
			return len(src)
		}
		off += k + 1
	}
	for n := 1; n < col && off < len(src) && src[off] != '\n'; n++ {
		_, size := utf8.DecodeRuneInString(src[off:])
		off += size
	}
	return off
}

// byteColToRune turns text/template's 0-based byte column on line into a
// 1-based character column.
func byteColToRune(src string, line, col int) int {
	l := lineText(src, line)
	col = min(max(col, 0), len(l))
	return utf8.RuneCountInString(l[:col]) + 1
}

// guessColumn locates a parse error that names something ("function "x"
// not defined", unexpected "<") on its line, searching from the line's first
// action; otherwise it points at that action.
func guessColumn(src string, line int, msg string) int {
	l := lineText(src, line)
	from := max(strings.Index(l, "{{"), 0)
	if m := quotedRE.FindStringSubmatch(msg); m != nil {
		if i := strings.Index(l[from:], m[1]); i >= 0 {
			return utf8.RuneCountInString(l[:from+i]) + 1
		}
	}
	return utf8.RuneCountInString(l[:from]) + 1
}

func lineText(src string, line int) string {
	for i := 1; i < line; i++ {
		k := strings.IndexByte(src, '\n')
		if k < 0 {
			return ""
		}
		src = src[k+1:]
	}
	if k := strings.IndexByte(src, '\n'); k >= 0 {
		return src[:k]
	}
	return src
}
