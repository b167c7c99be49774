package templates

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	xhtml "golang.org/x/net/html"
)

// MaxEmailBytes is Gmail's clipping limit: a message whose HTML is larger
// is cut off behind a "[Message clipped]" link, together with its
// unsubscribe link and open pixel.
const MaxEmailBytes = 102 * 1024

// The names of the pre-send checks, in the order they are reported.
const (
	CheckUnsubscribe = "unsubscribe" // a visible unsubscribe link, or the template marked transactional
	CheckAltText     = "alt_text"    // every image has alt text
	CheckPlainText   = "plain_text"  // the message has a plain-text part
	CheckLinks       = "links"       // every link is an absolute http(s), mailto: or tel: URL
	CheckSize        = "size"        // the HTML is under MaxEmailBytes
	CheckFields      = "fields"      // no personalisation field is missing for part of the audience
)

// Check is the outcome of one pre-send check. Message says, in English,
// what is wrong (empty when OK); Items lists the offenders (image sources,
// links, fields) for the editor to show in any language.
type Check struct {
	Name    string   `json:"name"`
	OK      bool     `json:"ok"`
	Message string   `json:"message,omitempty"`
	Items   []string `json:"items,omitempty"`
	// Share is, for the fields check, the share of the audience (0–1) for
	// whom some field is missing; Sampled is how many contacts were tried.
	Share   float64 `json:"share,omitempty"`
	Sampled int     `json:"sampled,omitempty"`
}

// Sentinel URLs the checks render with, so the unsubscribe link, the open
// pixel and the honeypot can be told apart from the author's own markup.
const (
	checkUnsubURL = "https://unsubscribe.peykar.invalid/u"
	checkOpenURL  = "https://open.peykar.invalid/o.gif"
	checkHoneyURL = "https://honeypot.peykar.invalid/h"
	checkPrefsURL = "https://preferences.peykar.invalid/p"
)

// checkTracker renders links as written and the tracking URLs as sentinels.
type checkTracker struct{}

func (checkTracker) ClickURL(_ int, target string) string { return target }
func (checkTracker) OpenURL() string                      { return checkOpenURL }
func (checkTracker) UnsubscribeURL() string               { return checkUnsubURL }
func (checkTracker) HoneypotURL() string                  { return checkHoneyURL }
func (checkTracker) PreferencesURL() string               { return checkPrefsURL }

// Checks runs the pre-send checks on t for the sample contact and, when
// audience is not empty, the fields check over those contacts (a bounded
// sample of the campaign's recipients: the share is of the sample). A
// template that does not compile fails with that error; the checks run only
// on templates that compile.
func Checks(ctx context.Context, t Template, audience []Contact) ([]Check, error) {
	c, err := Compile(t)
	if err != nil {
		return nil, err
	}
	v := sampleView(c)
	r, err := c.RenderContext(context.WithValue(ctx, sampleRenderKey{}, true), Data{Contact: v.Contact, Campaign: v.Campaign, Data: v.Data}, checkTracker{})
	if err != nil {
		return nil, fmt.Errorf("render for checks: %w", err)
	}
	doc, err := xhtml.Parse(strings.NewReader(r.HTML))
	if err != nil {
		return nil, fmt.Errorf("parse rendered html: %w", err)
	}
	s := scanDoc(doc)
	out := []Check{
		unsubscribeCheck(s, t.Transactional),
		listCheck(CheckAltText, s.noAlt, "images without alt text"),
		plainTextCheck(r.Text),
		listCheck(CheckLinks, s.badLinks, "links that are not absolute http(s), mailto: or tel: URLs"),
		sizeCheck(len(r.HTML)),
	}
	if len(audience) > 0 {
		out = append(out, fieldsCheck(ctx, c, audience))
	}
	return out, nil
}

// Failed returns the checks that did not pass.
func Failed(checks []Check) []Check {
	var out []Check
	for _, c := range checks {
		if !c.OK {
			out = append(out, c)
		}
	}
	return out
}

// scan is what the checks need from a rendered document.
type scan struct {
	visibleUnsub, hiddenUnsub bool
	noAlt, badLinks           []string
}

func scanDoc(doc *xhtml.Node) scan {
	var s scan
	var walk func(n *xhtml.Node, hidden bool)
	walk = func(n *xhtml.Node, hidden bool) {
		if n.Type == xhtml.ElementNode {
			hidden = hidden || isHidden(n)
			switch n.Data {
			case "img":
				if src := attrOf(n, "src"); src != checkOpenURL && strings.TrimSpace(attrOf(n, "alt")) == "" {
					s.noAlt = append(s.noAlt, src)
				}
			case "a":
				href := strings.TrimSpace(attrOf(n, "href"))
				switch {
				case href == checkUnsubURL && !hidden && strings.TrimSpace(linkText(n)) != "":
					s.visibleUnsub = true
				case href == checkUnsubURL:
					s.hiddenUnsub = true
				case href == checkHoneyURL:
				case !validHref(href):
					s.badLinks = append(s.badLinks, href)
				}
			}
		}
		for ch := n.FirstChild; ch != nil; ch = ch.NextSibling {
			walk(ch, hidden)
		}
	}
	walk(doc, false)
	return s
}

func attrOf(n *xhtml.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

// isHidden reports whether an element hides itself and what it holds.
func isHidden(n *xhtml.Node) bool {
	for _, a := range n.Attr {
		if a.Key == "hidden" || (a.Key == "aria-hidden" && a.Val == "true") {
			return true
		}
	}
	style := strings.ToLower(strings.ReplaceAll(attrOf(n, "style"), " ", ""))
	for _, h := range []string{"display:none", "visibility:hidden", "font-size:0;", "font-size:0px", "opacity:0;", "max-height:0"} {
		if strings.Contains(style+";", h) {
			return true
		}
	}
	return false
}

// linkText is a link's text, image alt text included.
func linkText(n *xhtml.Node) string {
	var b strings.Builder
	var walk func(*xhtml.Node)
	walk = func(n *xhtml.Node) {
		switch {
		case n.Type == xhtml.TextNode:
			b.WriteString(n.Data)
		case n.Type == xhtml.ElementNode && n.Data == "img":
			b.WriteString(attrOf(n, "alt"))
		}
		for ch := n.FirstChild; ch != nil; ch = ch.NextSibling {
			walk(ch)
		}
	}
	walk(n)
	return b.String()
}

// validHref accepts absolute http(s) URLs with a host, mailto: and tel:.
func validHref(href string) bool {
	u, err := url.Parse(href)
	if err != nil {
		return false
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
		return u.Host != ""
	case "mailto", "tel":
		return u.Opaque != ""
	}
	return false
}

func unsubscribeCheck(s scan, transactional bool) Check {
	c := Check{Name: CheckUnsubscribe, OK: s.visibleUnsub || transactional}
	switch {
	case c.OK:
	case s.hiddenUnsub:
		c.Message = "the unsubscribe link is hidden or has no text: recipients must be able to see it (or mark the template transactional)"
	default:
		c.Message = `no visible unsubscribe link: add <a href="{{ unsubscribe_url }}">Unsubscribe</a> (or mark the template transactional)`
	}
	return c
}

func listCheck(name string, items []string, what string) Check {
	if len(items) == 0 {
		return Check{Name: name, OK: true}
	}
	return Check{Name: name, Items: items, Message: fmt.Sprintf("%d %s: %s", len(items), what, strings.Join(items, ", "))}
}

func plainTextCheck(text string) Check {
	if strings.TrimSpace(text) != "" {
		return Check{Name: CheckPlainText, OK: true}
	}
	return Check{Name: CheckPlainText, Message: "the message has no plain-text part: write one, or add text to the HTML it is generated from"}
}

func sizeCheck(n int) Check {
	c := Check{Name: CheckSize, OK: n < MaxEmailBytes}
	if !c.OK {
		c.Message = fmt.Sprintf("the HTML is %.1f KB; Gmail clips messages over %d KB, hiding the rest and the unsubscribe link", float64(n)/1024, MaxEmailBytes/1024)
	}
	c.Items = []string{fmt.Sprintf("%.1f KB", float64(n)/1024)}
	return c
}
