package templates

import (
	"bytes"
	"context"
	"fmt"
	"html"
	htmltemplate "html/template"
	"strings"
	"sync"
)

// view is the data a compiled template executes against: the message Data
// plus the render state behind the recipient-dependent helpers. The
// generated calls pass it explicitly ({{ peykar_click $ 3 }}): plain
// functions are much cheaper for text/template to call than methods.
type view struct {
	Contact  Contact
	Campaign Campaign
	// Data is the message's own data (Data.Data).
	Data map[string]any
	// PeykarDot is the dot where a personalised link is, while its href
	// renders: the href's own template reads it for "." (see dotToVar).
	PeykarDot any

	c      *Compiled
	tr     Tracker
	unsub  string
	prefs  string
	clicks []string // per link: its URL for this message, once computed
	// validating: executing against the sample contact on save, where a
	// missing attribute is not an error.
	validating bool
	// budget counts this render's spending and is the writer it renders
	// into.
	budget budget
	// esc holds a value being escaped on the fast path (see fastpath.go);
	// kept across renders by the pool.
	esc []byte
}

// PreferencesTracker is a Tracker that also makes the recipient's
// preference centre URL (the engine's does; previews' do not).
type PreferencesTracker interface {
	PreferencesURL() string
}

// PreferencesURL implements {{ .PreferencesURL }}: the recipient's
// preference centre, "#" without a tracker that makes one (previews, test
// sends). It is signed on first use only.
func (v *view) PreferencesURL() htmltemplate.URL {
	if v.prefs == "" {
		v.prefs = "#"
		if pt, ok := v.tr.(PreferencesTracker); ok {
			v.prefs = pt.PreferencesURL()
		}
	}
	return htmltemplate.URL(v.prefs) //nolint:gosec // G203: a signed URL our own tracking builds
}

// String keeps {{ . }} at the top level from printing the render state.
func (v *view) String() string { return "[message data]" }

// reset prepares a pooled view for a message rendered under ctx, keeping
// its clicks buffer.
func (v *view) reset(ctx context.Context, d Data, c *Compiled, tr Tracker) {
	clicks, esc := v.clicks[:0], v.esc[:0]
	*v = view{Contact: d.Contact, Campaign: d.Campaign, Data: d.Data, c: c, tr: tr, clicks: clicks, esc: esc}
	v.budget.begin(ctx)
	for range c.links {
		v.clicks = append(v.clicks, "")
	}
}

// clear drops the references a pooled view holds, keeping its buffer.
func (v *view) clear() {
	clicks, esc := v.clicks[:0], v.esc[:0]
	*v = view{clicks: clicks, esc: esc}
}

var viewPool = sync.Pool{New: func() any { return new(view) }}

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// stateFuncs are the functions behind the recipient-dependent helpers.
func stateFuncs() map[string]any {
	return map[string]any{
		"peykar_attr":        attrFunc,
		attrOptional:         attrOptionalFunc,
		"peykar_unsubscribe": unsubscribeFunc,
		"peykar_click":       clickFunc,
		"peykar_href":        hrefFunc,
		"peykar_click_dot":   clickDotFunc,
		"peykar_href_dot":    hrefDotFunc,
		"peykar_extras":      extrasFunc,
	}
}

// attrFunc implements {{ attr "key" }} and {{ attr "key" "default" }}: the
// contact's attribute, or the default when the attribute is missing, null
// or an empty string. A missing attribute without a default is an error.
func attrFunc(v *view, key string, def ...any) (any, error) {
	if len(def) > 1 {
		return nil, fmt.Errorf("attr takes a key and at most one default, got %d defaults", len(def))
	}
	val, ok := v.Contact.Attributes[key]
	if ok && !isEmpty(val) {
		return val, nil
	}
	if len(def) == 1 {
		return def[0], nil
	}
	if v.validating {
		return "sample", nil
	}
	return nil, fmt.Errorf("contact attribute %q is missing and has no default (write: attr %q \"fallback\")", key, key)
}

// attrOptionalFunc is attrFunc where a missing attribute without a default
// is nil, not an error (see attrOptional).
func attrOptionalFunc(v *view, key string, def ...any) (any, error) {
	if len(def) == 0 && !v.validating {
		if val, ok := v.Contact.Attributes[key]; ok && !isEmpty(val) {
			return val, nil
		}
		return nil, nil
	}
	return attrFunc(v, key, def...)
}

// unsubscribeFunc implements {{ unsubscribe_url }}: "#" without a tracker.
func unsubscribeFunc(v *view) htmltemplate.URL {
	if v.tr == nil {
		return "#"
	}
	if v.unsub == "" {
		v.unsub = v.tr.UnsubscribeURL()
	}
	return htmltemplate.URL(v.unsub) //nolint:gosec // G203: a signed URL our own tracking builds
}

// clickFunc yields static link idx's URL for this message: tracked when
// there is a tracker, the original otherwise. It is computed once per
// message and reused by the plain-text part.
func clickFunc(v *view, idx int) (htmltemplate.URL, error) {
	return v.cachedClick(idx, nil)
}

// cachedClick computes link idx's URL once per message.
func (v *view) cachedClick(idx int, dot any) (htmltemplate.URL, error) {
	if idx < 0 || idx >= len(v.c.links) {
		return "", fmt.Errorf("no link %d", idx)
	}
	if idx < len(v.clicks) && v.clicks[idx] != "" {
		return htmltemplate.URL(v.clicks[idx]), nil //nolint:gosec // G203: a signed URL our own tracking builds
	}
	u, err := v.click(idx, dot)
	if err != nil {
		return "", err
	}
	if idx < len(v.clicks) {
		v.clicks[idx] = u
	}
	return htmltemplate.URL(u), nil //nolint:gosec // G203: a signed URL our own tracking builds
}

// clickDotFunc yields personalised link idx's URL, its href rendered with
// dot: once per message where dot is the message data, once per place
// inside range or with.
func clickDotFunc(v *view, idx int, dot any) (htmltemplate.URL, error) {
	if d, ok := dot.(*view); ok && d == v {
		return v.cachedClick(idx, dot)
	}
	if idx < 0 || idx >= len(v.c.links) {
		return "", fmt.Errorf("no link %d", idx)
	}
	u, err := v.click(idx, dot)
	return htmltemplate.URL(u), err //nolint:gosec // G203: a signed URL our own tracking builds
}

// hrefDotFunc is hrefFunc for a personalised link.
func hrefDotFunc(v *view, idx int, dot any) (htmltemplate.HTMLAttr, error) {
	u, err := clickDotFunc(v, idx, dot)
	if err != nil {
		return "", err
	}
	return hrefAttr(string(u)), nil
}

// hrefFunc writes link idx's whole href attribute for the HTML part. The
// URL is written as html/template writes a URL action in an attribute.
func hrefFunc(v *view, idx int) (htmltemplate.HTMLAttr, error) {
	u, err := clickFunc(v, idx)
	if err != nil {
		return "", err
	}
	return hrefAttr(string(u)), nil
}

func hrefAttr(u string) htmltemplate.HTMLAttr {
	var b strings.Builder
	b.Grow(len(u) + 16)
	b.WriteString(`href="`)
	writeURLAttr(&b, u)
	b.WriteByte('"')
	return htmltemplate.HTMLAttr(b.String()) //nolint:gosec // G203: writeURLAttr escaped the URL
}

// extrasFunc writes the hidden honeypot link and the open pixel; nothing
// without a tracker.
func extrasFunc(v *view) htmltemplate.HTML {
	if v.tr == nil {
		return ""
	}
	honeypot, open := v.tr.HoneypotURL(), v.tr.OpenURL()
	var b strings.Builder
	b.Grow(len(honeypot) + len(open) + 160)
	b.WriteString(`<a href="`)
	writeURLAttr(&b, honeypot)
	b.WriteString(`" style="display:none" aria-hidden="true" tabindex="-1"></a><img src="`)
	writeURLAttr(&b, open)
	b.WriteString(`" width="1" height="1" alt="" style="display:none">`)
	return htmltemplate.HTML(b.String()) //nolint:gosec // G203: writeURLAttr escaped both URLs
}

// writeURLAttr writes URL s for a double-quoted attribute value the way
// html/template does for a URL action: normalised (bytes outside RFC 3986's
// unreserved and reserved sets, and quotes and parentheses, are
// percent-encoded; valid escapes are kept), then "&" and "+" as entities.
func writeURLAttr[W interface {
	WriteString(string) (int, error)
	WriteByte(byte) error
}](b W, s string) {
	const hex = "0123456789abcdef"
	last := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
			continue
		case strings.IndexByte("-._~!#$*,/:;=?@[]", c) >= 0:
			continue
		case c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			continue
		}
		_, _ = b.WriteString(s[last:i])
		switch c {
		case '&':
			_, _ = b.WriteString("&amp;")
		case '+':
			_, _ = b.WriteString("&#43;")
		default:
			_ = b.WriteByte('%')
			_ = b.WriteByte(hex[c>>4])
			_ = b.WriteByte(hex[c&15])
		}
		last = i + 1
	}
	_, _ = b.WriteString(s[last:])
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func (v *view) click(idx int, dot any) (string, error) {
	l := &v.c.links[idx]
	target := l.URL
	if l.href != nil {
		var err error
		v.PeykarDot = dot
		target, err = v.renderHref(l.href)
		v.PeykarDot = nil
		if err != nil {
			return "", err
		}
		if !isHTTP(target) {
			return target, nil // not trackable; already sanitised by html/template
		}
	}
	if v.tr == nil {
		return target, nil
	}
	return v.tr.ClickURL(idx, target), nil
}

// hrefTemplate wraps a personalised href in its own small html/template,
// so its actions are escaped exactly as in the document. The quote is the
// one the href cannot contain.
func hrefTemplate(src string) string {
	q := `"`
	if strings.Contains(mask(src, findActions(src)), `"`) {
		q = `'`
	}
	return `<a href=` + q + src + q + `>`
}

// hrefPrefix and hrefSuffix are the lengths hrefTemplate adds around the
// rendered href.
const hrefPrefix, hrefSuffix = len(`<a href="`), len(`">`)

func (v *view) renderHref(t *htmltemplate.Template) (string, error) {
	buf := bufPool.Get().(*bytes.Buffer)
	defer bufPool.Put(buf)
	buf.Reset()
	// The link renders into its own buffer under the same budget, capped
	// at MaxLinkOutput.
	bg := &v.budget
	out, max, over := bg.out, bg.max, bg.over
	bg.out, bg.max, bg.over = buf, hrefPrefix+MaxLinkOutput+hrefSuffix, errLink
	err := t.Execute(bg, v)
	bg.out, bg.max, bg.over = out, max, over
	if err != nil {
		return "", err
	}
	b := buf.Bytes()
	if len(b) < hrefPrefix+hrefSuffix {
		return "", fmt.Errorf("personalised link rendered unexpectedly: %q", b)
	}
	return html.UnescapeString(string(b[hrefPrefix : len(b)-hrefSuffix])), nil
}
