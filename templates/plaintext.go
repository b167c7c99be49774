package templates

import (
	"html"
	"strings"

	xhtml "golang.org/x/net/html"
)

// plainText turns an HTML template source (after link rewriting) into a
// text/template source for the plain-text part: readable text with the
// template actions kept in place, paragraphs and line breaks kept, list
// items as "- ", links as "text (url)" with the tracked URL, no tags, and
// entities decoded. Content of head, style, script and title is dropped.
func plainText(src string) string {
	actions := findActions(src)
	z := xhtml.NewTokenizer(strings.NewReader(mask(src, actions)))
	w := &textWriter{}
	var (
		off      int
		skip     string // the element whose content is dropped
		href     string // the open link's printable URL
		linkText int    // w.b.Len() when the open link started
	)
	for {
		tt := z.Next()
		if tt == xhtml.ErrorToken {
			break
		}
		raw := string(z.Raw())
		start := off
		off += len(raw)
		name, _ := z.TagName()
		tag := string(name)
		switch tt {
		case xhtml.TextToken:
			if skip == "" {
				w.text(src[start:off], actions, start)
			}
		case xhtml.StartTagToken, xhtml.SelfClosingTagToken:
			if skip != "" {
				continue
			}
			switch tag {
			case "head", "style", "script", "title", "template":
				if tt == xhtml.StartTagToken {
					skip = tag
				}
			case "br":
				w.newline(1, true)
			case "p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "table", "ul", "ol", "pre":
				w.newline(2, false)
			case "div", "tr", "section", "article", "header", "footer", "center":
				w.newline(1, false)
			case "li":
				w.newline(1, false)
				w.literal("- ")
			case "td", "th":
				w.space()
			case "hr":
				w.newline(2, false)
				w.literal("---")
				w.newline(2, false)
			case "a":
				href, linkText = printableHref(src[start:off], raw), w.b.Len()
			case "img":
				if href != "" { // an image link shows its alt text
					for _, a := range scanAttrs(raw) {
						if a.name == "alt" && a.hasVal {
							w.text(src[start+a.val.start:start+a.val.end], actions, start+a.val.start)
						}
					}
				}
			}
		case xhtml.EndTagToken:
			if skip != "" {
				if tag == skip {
					skip = ""
				}
				continue
			}
			switch tag {
			case "p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "table", "ul", "ol", "pre":
				w.newline(2, false)
			case "div", "tr", "li", "section", "article", "header", "footer", "center":
				w.newline(1, false)
			case "a":
				if href != "" {
					shown := strings.TrimSpace(w.b.String()[min(linkText, w.b.Len()):])
					switch {
					case shown == "":
						w.literal(href)
					case shown != href:
						w.space()
						w.literal("(" + href + ")")
					}
				}
				href = ""
			}
		}
	}
	return strings.TrimSpace(w.b.String())
}

// printableHref is the URL a link shows in plain text: the tracked-URL call
// or the original URL (mailto:, tel:, untracked http). Fragments and empty
// hrefs show nothing.
func printableHref(orig, raw string) string {
	for _, a := range scanAttrs(raw) {
		if a.name != "href" || !a.hasVal {
			continue
		}
		v := strings.TrimSpace(orig[a.val.start:a.val.end])
		if v == "" || strings.HasPrefix(v, "#") {
			return ""
		}
		if hasAction(v) {
			return v
		}
		v = html.UnescapeString(v)
		if i := strings.IndexByte(v, ':'); i > 0 {
			switch strings.ToLower(v[:i]) {
			case "mailto", "tel":
				return v[i+1:]
			}
		}
		return escapeBraces(v)
	}
	return ""
}

// textWriter accumulates plain text, collapsing whitespace and turning
// block boundaries into at most two newlines.
type textWriter struct {
	b       strings.Builder
	pending int  // newlines owed before the next text
	spaced  bool // the output ends in a space or newline
}

func (w *textWriter) newline(n int, force bool) {
	if force {
		w.flush()
		w.b.WriteByte('\n')
		w.spaced = true
		return
	}
	w.pending = max(w.pending, n)
}

func (w *textWriter) flush() {
	if w.pending > 0 && w.b.Len() > 0 {
		s := w.b.String()
		trimmed := strings.TrimRight(s, " ")
		if len(trimmed) != len(s) {
			w.b.Reset()
			w.b.WriteString(trimmed)
		}
		have := len(trimmed) - len(strings.TrimRight(trimmed, "\n"))
		for i := have; i < w.pending; i++ {
			w.b.WriteByte('\n')
		}
		w.spaced = true
	}
	w.pending = 0
}

func (w *textWriter) space() {
	if !w.spaced && w.b.Len() > 0 {
		w.b.WriteByte(' ')
		w.spaced = true
	}
}

func (w *textWriter) literal(s string) {
	w.flush()
	w.b.WriteString(s)
	w.spaced = strings.HasSuffix(s, " ")
}

// text writes the text token s found at byte offset base of the source:
// static parts decoded and whitespace-collapsed, actions verbatim.
func (w *textWriter) text(s string, actions []span, base int) {
	pos := 0
	for _, a := range actions {
		if a.end <= base || a.start >= base+len(s) {
			continue
		}
		as, ae := max(a.start-base, 0), min(a.end-base, len(s))
		w.static(s[pos:as])
		w.action(s[as:ae])
		pos = ae
	}
	w.static(s[pos:])
}

func (w *textWriter) static(s string) {
	if s == "" {
		return
	}
	s = html.UnescapeString(s)
	words := strings.Fields(s)
	if len(words) == 0 {
		w.space()
		return
	}
	if isSpaceRune(s[0]) {
		w.space()
	}
	w.flush()
	for i, word := range words {
		if i > 0 {
			w.b.WriteByte(' ')
		}
		w.b.WriteString(escapeBraces(word))
	}
	w.spaced = false
	if isSpaceRune(s[len(s)-1]) {
		w.space()
	}
}

// action writes a template action. Pending line breaks go before it, so
// they survive when a conditional after them renders nothing; control
// actions (if, else, end, range, with, comments) produce no text themselves,
// so they leave the spacing state alone.
func (w *textWriter) action(a string) {
	w.flush()
	inner := strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(a, "{{"), "}}"))
	inner = strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(inner, "-"), "-"))
	for _, kw := range []string{"if ", "else", "end", "range ", "with ", "break", "continue", "/*"} {
		if strings.HasPrefix(inner, kw) {
			w.b.WriteString(a)
			return
		}
	}
	w.b.WriteString(a)
	w.spaced = false
}

func isSpaceRune(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' }

// escapeBraces keeps decoded text that happens to contain "{{" from being
// read as an action.
func escapeBraces(s string) string {
	if !strings.Contains(s, "{{") {
		return s
	}
	return strings.ReplaceAll(s, "{{", `{{"{{"}}`)
}

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
