package templates

import (
	"encoding/json"
	"fmt"
	"strings"

	xhtml "golang.org/x/net/html"

	"github.com/peykar/peykar/internal/errs"
)

// UnsafeMarkup lists what in html no email may carry, in words naming
// each thing: a <script> (or <iframe>, <object>, <embed>) element, an event
// handler attribute (onclick on <a>), a javascript: URL. Mail clients
// strip or block these, and some mark the message as dangerous. The
// starter gallery is held to it, and so is the visual editor's raw HTML
// block (see CheckDesign); an empty list means html is safe.
func UnsafeMarkup(html string) []string {
	doc, err := xhtml.Parse(strings.NewReader(html)) // a fragment is read into a document's body
	if err != nil {
		return []string{"markup that cannot be read as HTML"}
	}
	var out []string
	seen := map[string]bool{}
	add := func(s string) {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	var walk func(n *xhtml.Node)
	walk = func(n *xhtml.Node) {
		if n.Type == xhtml.ElementNode {
			switch n.Data {
			case "script", "iframe", "object", "embed":
				add("<" + n.Data + ">")
			}
			for _, a := range n.Attr {
				key := strings.ToLower(a.Key)
				switch {
				case strings.HasPrefix(key, "on"):
					add(fmt.Sprintf("%s on <%s>", key, n.Data))
				case isJavaScriptURL(a.Val) && (key == "href" || key == "src" || key == "action" || key == "formaction" || key == "xlink:href" || key == "background" || key == "poster"):
					add(fmt.Sprintf("javascript: in %s of <%s>", key, n.Data))
				}
			}
		}
		for ch := n.FirstChild; ch != nil; ch = ch.NextSibling {
			walk(ch)
		}
	}
	walk(doc)
	return out
}

// isJavaScriptURL reports a javascript: URL as browsers read it: spaces
// and control characters anywhere in the scheme are ignored, any case.
func isJavaScriptURL(v string) bool {
	var b strings.Builder
	for _, r := range v {
		if r <= ' ' {
			continue
		}
		b.WriteRune(r)
		if b.Len() >= len("javascript:") {
			break
		}
	}
	return strings.EqualFold(b.String(), "javascript:")
}

// RawHTMLType is the visual editor's raw HTML block (a GrapesJS
// component type); its markup is the component's "raw" property, kept
// verbatim in the design and the HTML.
const RawHTMLType = "peykar-raw-html"

// CheckDesign refuses a visual-editor design whose raw HTML blocks carry
// unsafe markup (UnsafeMarkup), with an errs.Invalid error on field
// "design" saying what was refused. A design it cannot read is left to
// Validate's JSON check.
func CheckDesign(design json.RawMessage) error {
	if len(design) == 0 {
		return nil
	}
	var doc any
	if json.Unmarshal(design, &doc) != nil {
		return nil
	}
	var refused []string
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if x["type"] == RawHTMLType {
				if raw, ok := x["raw"].(string); ok {
					refused = append(refused, UnsafeMarkup(raw)...)
				}
			}
			for _, c := range x {
				walk(c)
			}
		case []any:
			for _, c := range x {
				walk(c)
			}
		}
	}
	walk(doc)
	if len(refused) == 0 {
		return nil
	}
	return errs.Field("design", "%s%s", UnsafeRawHTMLPrefix, strings.Join(refused, ", "))
}

// UnsafeRawHTMLPrefix begins CheckDesign's message, before the list of
// what was refused (the admin UI words it in the page's language).
const UnsafeRawHTMLPrefix = "the raw HTML block cannot be saved: email cannot carry "
