package templates

import (
	"fmt"
	"html"
	"strings"
	"unicode/utf8"

	xhtml "golang.org/x/net/html"
)

// maxLinkName caps a link's recorded name, in runes.
const maxLinkName = 200

// attr is one attribute of a raw start tag: its lower-cased name and the
// byte range of its value inside the tag (quoted: without the quotes).
type attr struct {
	name   string
	val    span
	full   span // the whole attribute: name, "=", quoted value
	quoted bool
	hasVal bool
}

// scanAttrs parses the attributes of a raw start tag such as
// `<a class="x" href='y' data-peykar-notrack>`. raw must be masked (no
// template actions), so the HTML syntax alone decides where values end.
func scanAttrs(raw string) []attr {
	i := 1 // skip '<'
	for i < len(raw) && !isSpace(raw[i]) && raw[i] != '>' && raw[i] != '/' {
		i++
	}
	var out []attr
	for i < len(raw) {
		for i < len(raw) && (isSpace(raw[i]) || raw[i] == '/') {
			i++
		}
		if i >= len(raw) || raw[i] == '>' {
			break
		}
		ns := i
		for i < len(raw) && !isSpace(raw[i]) && raw[i] != '=' && raw[i] != '>' && raw[i] != '/' {
			i++
		}
		a := attr{name: strings.ToLower(raw[ns:i])}
		j := i
		for j < len(raw) && isSpace(raw[j]) {
			j++
		}
		if j < len(raw) && raw[j] == '=' {
			j++
			for j < len(raw) && isSpace(raw[j]) {
				j++
			}
			a.hasVal = true
			if j < len(raw) && (raw[j] == '"' || raw[j] == '\'') {
				q := raw[j]
				k := strings.IndexByte(raw[j+1:], q)
				if k < 0 {
					k = len(raw) - j - 1
				}
				a.val, a.quoted = span{j + 1, j + 1 + k}, true
				i = min(j+1+k+1, len(raw))
				a.full = span{ns, i}
			} else {
				vs := j
				for j < len(raw) && !isSpace(raw[j]) && raw[j] != '>' {
					j++
				}
				a.val, i = span{vs, j}, j
				a.full = span{ns, j}
			}
		} else {
			a.full = span{ns, i}
		}
		out = append(out, a)
	}
	return out
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' }

// edit replaces src[start:end] with repl.
type edit struct {
	start, end int
	repl       string
}

// originalOffset maps byte offset off of applyEdits(src, edits) back to
// src: inside a replacement it is the replaced range's start.
func originalOffset(off int, edits []edit) int {
	delta := 0 // how much longer the output is than src, before the current edit
	for _, e := range edits {
		at := e.start + delta
		if off < at {
			break
		}
		if off < at+len(e.repl) {
			return e.start
		}
		delta += len(e.repl) - (e.end - e.start)
	}
	return off - delta
}

func applyEdits(src string, edits []edit) string {
	if len(edits) == 0 {
		return src
	}
	var b strings.Builder
	b.Grow(len(src) + 32*len(edits))
	last := 0
	for _, e := range edits {
		b.WriteString(src[last:e.start])
		b.WriteString(e.repl)
		last = e.end
	}
	b.WriteString(src[last:])
	return b.String()
}

// clickCall is the action that yields static link idx's URL for this
// message.
func clickCall(idx int) string { return fmt.Sprintf("{{ peykar_click $ %d }}", idx) }

// clickDotCall is clickCall for a personalised link: it passes the current
// dot, which the href's actions may use (inside range or with).
func clickDotCall(idx int) string { return fmt.Sprintf("{{ peykar_click_dot $ %d . }}", idx) }

// hrefCall is the action a trackable link's whole href attribute becomes in
// the HTML: one call that writes href="…" (see hrefFunc), much cheaper to
// render than a URL action in an attribute value, which html/template
// passes through three escapers.
func hrefCall(idx int) string { return fmt.Sprintf("{{ peykar_href $ %d }}", idx) }

// hrefDotCall is hrefCall for a personalised link (see clickDotCall).
func hrefDotCall(idx int) string { return fmt.Sprintf("{{ peykar_href_dot $ %d . }}", idx) }

// rewrittenHTML is an HTML source prepared for tracking.
type rewrittenHTML struct {
	html  []edit   // replace href attributes by hrefCall, in source order
	text  string   // href values replaced by clickCall, for the plain-text generator
	links []Link   // the trackable links in document order
	hrefs []string // per link, the raw href source of a personalised link, else ""
}

// rewriteLinks finds the trackable links of an HTML template source, in
// document order, and replaces each one's href by a call that yields the
// tracked URL at render time. Trackable: an http(s) URL, or an href
// holding template actions (personalised: its scheme is checked once
// rendered); left alone: mailto:, tel:, #anchors, other schemes,
// unsubscribe_url, and links marked data-peykar-notrack.
func rewriteLinks(src string) rewrittenHTML {
	masked := mask(src, findActions(src))
	z := xhtml.NewTokenizer(strings.NewReader(masked))
	var (
		links     []Link
		hrefs     []string
		edits     []edit // for the text variant
		attrEdits []edit // for the HTML

		off  int
		cur  = -1 // index in links of the open <a>, while its name is collected
		text strings.Builder
		alt  string
	)
	finish := func() {
		if cur >= 0 && links[cur].Name == "" {
			name := collapseSpace(text.String())
			if name == "" {
				name = alt
			}
			links[cur].Name = truncateRunes(name, maxLinkName)
		}
		cur, alt = -1, ""
		text.Reset()
	}
	for {
		tt := z.Next()
		if tt == xhtml.ErrorToken {
			break
		}
		raw := string(z.Raw())
		start := off
		off += len(raw)
		switch tt {
		case xhtml.TextToken:
			if cur >= 0 {
				text.WriteString(html.UnescapeString(src[start:off]))
			}
		case xhtml.StartTagToken, xhtml.SelfClosingTagToken:
			name, _ := z.TagName()
			switch string(name) {
			case "a":
				finish()
				l, e, ae, href, ok := trackable(src[start:off], raw, start, len(links))
				if ok {
					links = append(links, l)
					hrefs = append(hrefs, href)
					edits = append(edits, e)
					attrEdits = append(attrEdits, ae)
					cur = len(links) - 1
				}
			case "img":
				if cur >= 0 && alt == "" {
					for _, a := range scanAttrs(raw) {
						if a.name == "alt" {
							alt = collapseSpace(html.UnescapeString(src[start+a.val.start : start+a.val.end]))
						}
					}
				}
			}
		case xhtml.EndTagToken:
			if name, _ := z.TagName(); string(name) == "a" {
				finish()
			}
		}
	}
	finish()
	return rewrittenHTML{html: attrEdits, text: applyEdits(src, edits), links: links, hrefs: hrefs}
}

// trackable decides whether the <a> start tag orig (raw: its masked form,
// at byte offset base of the source) is tracked, and if so returns its Link
// the edits that replace its href value and its whole href attribute, and
// the raw href source when the link is personalised.
func trackable(orig, raw string, base, idx int) (l Link, value, whole edit, href string, ok bool) {
	var ha *attr
	var name, title string
	attrs := scanAttrs(raw)
	for i := range attrs {
		a := &attrs[i]
		val := orig[a.val.start:a.val.end]
		switch a.name {
		case "data-peykar-notrack":
			return Link{}, edit{}, edit{}, "", false
		case "href":
			if ha == nil && a.hasVal {
				ha = a
			}
		case "data-peykar-name":
			name = collapseSpace(html.UnescapeString(val))
		case "title":
			title = collapseSpace(html.UnescapeString(val))
		}
	}
	if ha == nil {
		return Link{}, edit{}, edit{}, "", false
	}
	val := orig[ha.val.start:ha.val.end]
	trimmed := strings.TrimSpace(val)
	l = Link{Idx: idx, Name: name}
	if l.Name == "" {
		l.Name = truncateRunes(title, maxLinkName)
	}
	if hasAction(trimmed) {
		if strings.Contains(trimmed, "unsubscribe_url") || strings.Contains(trimmed, ".PreferencesURL") {
			return Link{}, edit{}, edit{}, "", false
		}
		prefix := html.UnescapeString(trimmed[:strings.Index(trimmed, "{{")])
		if prefix != "" && !isHTTP(prefix) && !strings.HasPrefix("https://", strings.ToLower(prefix)) {
			return Link{}, edit{}, edit{}, "", false // mailto:{{ … }} and the like
		}
		l.URL, l.Personalised = decodeStatic(trimmed), true
	} else {
		u := html.UnescapeString(trimmed)
		if !isHTTP(u) {
			return Link{}, edit{}, edit{}, "", false
		}
		l.URL = u
	}
	click, hrefAttr := clickCall(idx), hrefCall(idx)
	if l.Personalised {
		href, click, hrefAttr = trimmed, clickDotCall(idx), hrefDotCall(idx)
	}
	value = edit{start: base + ha.val.start, end: base + ha.val.end, repl: click}
	if !ha.quoted {
		value.repl = `"` + value.repl + `"`
	}
	whole = edit{start: base + ha.full.start, end: base + ha.full.end, repl: hrefAttr}
	return l, value, whole, href, true
}

// decodeStatic decodes HTML entities outside the template actions of s.
func decodeStatic(s string) string {
	var b strings.Builder
	pos := 0
	for _, a := range findActions(s) {
		b.WriteString(html.UnescapeString(s[pos:a.start]))
		b.WriteString(s[a.start:a.end])
		pos = a.end
	}
	b.WriteString(html.UnescapeString(s[pos:]))
	return b.String()
}

// isHTTP reports whether u is an absolute http(s) URL.
func isHTTP(u string) bool {
	if len(u) < 8 {
		return false
	}
	p := strings.ToLower(u[:8])
	return strings.HasPrefix(p, "http://") || p == "https://"
}

func collapseSpace(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n])
}
