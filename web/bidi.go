package web

import (
	"html/template"
	"regexp"
	"strings"
)

// codeSpan is a `quoted` piece of code inside a catalogue message.
var codeSpan = regexp.MustCompile("`([^`]+)`")

// withCode escapes message s and shows its `quoted` pieces as code, each
// isolated from the bidi algorithm and written left to right, so
// `ctr >= 0.05` reads the same inside a Persian sentence.
func withCode(s string) template.HTML {
	esc := template.HTMLEscapeString(s)
	return template.HTML(codeSpan.ReplaceAllString(esc, `<code class="mono" dir="ltr">$1</code>`)) //nolint:gosec // G203: escaped above; only our own tags are added
}

// templateAction is a {{ … }} action inside a subject or other template text.
var templateAction = regexp.MustCompile(`\{\{.*?\}\}`)

// isolateActions escapes template text s (an email subject) and isolates
// each {{ … }} action in a left-to-right <bdi>, so "سلام {{ .Contact.Name }}"
// does not show as "}} Contact.Name. {{ سلام".
func isolateActions(s string) template.HTML {
	var b strings.Builder
	last := 0
	for _, m := range templateAction.FindAllStringIndex(s, -1) {
		b.WriteString(template.HTMLEscapeString(s[last:m[0]]))
		b.WriteString(`<bdi class="mono" dir="ltr">`)
		b.WriteString(template.HTMLEscapeString(s[m[0]:m[1]]))
		b.WriteString(`</bdi>`)
		last = m[1]
	}
	b.WriteString(template.HTMLEscapeString(s[last:]))
	return template.HTML(b.String()) //nolint:gosec // G203: every piece of s is escaped
}
