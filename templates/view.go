package templates

import (
	"bytes"
	"fmt"
	"html"
	htmltemplate "html/template"
	"sync"
)

// view is the data a compiled template executes against: the message Data
// plus the render state behind the recipient-dependent helpers. Templates
// call its Peykar* methods through the calls Compile generates; they are
// exported only because text/template can call nothing else.
type view struct {
	Contact  Contact
	Campaign Campaign

	c     *Compiled
	tr    Tracker
	unsub string
	// validating: executing against the sample contact on save, where a
	// missing attribute is not an error.
	validating bool
}

var viewPool = sync.Pool{New: func() any { return new(view) }}

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// PeykarAttr implements {{ attr "key" }} and {{ attr "key" "default" }}: the
// contact's attribute, or the default when the attribute is missing, null
// or an empty string. A missing attribute without a default is an error.
func (v *view) PeykarAttr(key string, def ...any) (any, error) {
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

// PeykarUnsubscribe implements {{ unsubscribe_url }}: "#" without a tracker.
func (v *view) PeykarUnsubscribe() htmltemplate.URL {
	if v.tr == nil {
		return "#"
	}
	if v.unsub == "" {
		v.unsub = v.tr.UnsubscribeURL()
	}
	return htmltemplate.URL(v.unsub)
}

// PeykarClick yields link idx's URL: tracked when there is a tracker, the
// original (rendered, for personalised links) otherwise.
func (v *view) PeykarClick(idx int) (htmltemplate.URL, error) {
	if idx < 0 || idx >= len(v.c.links) {
		return "", fmt.Errorf("no link %d", idx)
	}
	l := &v.c.links[idx]
	target := l.URL
	if l.href != nil {
		var err error
		if target, err = v.renderHref(l.href); err != nil {
			return "", err
		}
		if !isHTTP(target) {
			return htmltemplate.URL(target), nil // already sanitised by html/template
		}
	}
	if v.tr == nil {
		return htmltemplate.URL(target), nil
	}
	return htmltemplate.URL(v.tr.ClickURL(idx, target)), nil
}

// hrefPrefix and hrefSuffix surround a personalised href in its own small
// html/template, so its actions are escaped exactly as in the document.
const hrefPrefix, hrefSuffix = `<a href="`, `">`

func (v *view) renderHref(t *htmltemplate.Template) (string, error) {
	buf := bufPool.Get().(*bytes.Buffer)
	defer bufPool.Put(buf)
	buf.Reset()
	if err := t.Execute(buf, v); err != nil {
		return "", err
	}
	b := buf.Bytes()
	if len(b) < len(hrefPrefix)+len(hrefSuffix) {
		return "", fmt.Errorf("personalised link rendered unexpectedly: %q", b)
	}
	return html.UnescapeString(string(b[len(hrefPrefix) : len(b)-len(hrefSuffix)])), nil
}

// PeykarTracking reports whether tracking extras (pixel, honeypot) are added.
func (v *view) PeykarTracking() bool { return v.tr != nil }

// PeykarOpen yields the open pixel's URL.
func (v *view) PeykarOpen() htmltemplate.URL { return htmltemplate.URL(v.tr.OpenURL()) }

// PeykarHoneypot yields the hidden machine-only link's URL.
func (v *view) PeykarHoneypot() htmltemplate.URL { return htmltemplate.URL(v.tr.HoneypotURL()) }
