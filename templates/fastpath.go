package templates

import (
	"slices"
	"strings"
	"text/template/parse"
)

// The fast path renders a part without text/template when its (escaped)
// tree is only text and actions of a few shapes that personalised mail
// mostly consists of: a contact or campaign name, an attribute with an
// optional literal default, a tracked link, the unsubscribe URL and the
// tracking extras. text/template calls every helper and every escaper
// through reflect, which made a quarter of the cost of a message; here the
// same helpers are called directly, and html/template's escaping is applied
// by the equivalent code (escapeHTML, writeURLAttr), so the output is the
// same byte for byte (TestFastPathMatchesTemplates holds the two equal).
// Anything else — a condition, a loop, another escaper context, a value
// that is not a string, any error — renders the part with text/template
// (see view.run), so the fast path never changes what a message says or
// which error a render returns.

// fastKind is what a fastOp writes.
type fastKind uint8

const (
	fastText      fastKind = iota // the text as it is
	fastField                     // a string field of the data (field)
	fastAttr                      // a contact attribute (key, def)
	fastHref                      // link idx's whole href attribute (hrefFunc)
	fastClick                     // link idx's URL (clickFunc)
	fastUnsub                     // the unsubscribe URL (unsubscribeFunc)
	fastUnsubAttr                 // the unsubscribe URL in a quoted attribute
	fastExtras                    // the honeypot and open pixel (extrasFunc)
)

// fastOp is one step of a part rendered on the fast path.
type fastOp struct {
	kind fastKind
	text []byte
	// field reads a string field of the data (fastField).
	field func(*view) string
	// idx is a link's index (fastHref, fastClick).
	idx int
	// key is an attribute's key; optional reads peykar_attr_optional
	// rather than peykar_attr; def, when hasDef, is the literal of a
	// following `default` (fastAttr).
	key      string
	optional bool
	def      string
	hasDef   bool
	// escape: the value is written as html/template's htmlEscaper writes a
	// string (fastField, fastAttr).
	escape bool
}

// fastFields are the data fields the fast path reads: strings, printed
// as they are.
var fastFields = map[string]func(*view) string{
	"Contact.Name":  func(v *view) string { return v.Contact.Name },
	"Contact.Email": func(v *view) string { return v.Contact.Email },
	"Campaign.Name": func(v *view) string { return v.Campaign.Name },
}

// Names of html/template's escapers as they appear in an escaped tree.
const (
	escHTML       = "_html_template_htmlescaper"
	escNameFilter = "_html_template_htmlnamefilter"
	escURLFilter  = "_html_template_urlfilter"
	escURLNorm    = "_html_template_urlnormalizer"
	escAttr       = "_html_template_attrescaper"
)

// fastOps returns tree's fast path, or nil when some node needs
// text/template. html marks an html/template tree, which must already be
// escaped (Compile has executed it); its actions must end in exactly the
// escapers the fast path reproduces.
func fastOps(tree *parse.Tree, html bool) []fastOp {
	if tree == nil || tree.Root == nil {
		return nil
	}
	ops := make([]fastOp, 0, len(tree.Root.Nodes))
	for _, n := range tree.Root.Nodes {
		switch n := n.(type) {
		case *parse.TextNode:
			ops = append(ops, fastOp{kind: fastText, text: n.Text})
		case *parse.CommentNode:
		case *parse.ActionNode:
			op, ok := fastAction(n.Pipe, html)
			if !ok {
				return nil
			}
			ops = append(ops, op)
		default:
			return nil
		}
	}
	return ops
}

// fastAction matches one action's pipeline.
func fastAction(p *parse.PipeNode, html bool) (fastOp, bool) {
	if p == nil || len(p.Decl) > 0 || p.IsAssign || len(p.Cmds) == 0 {
		return fastOp{}, false
	}
	cmds := p.Cmds
	var escapers []string
	if html {
		// The escapers html/template appended: plain identifiers without
		// arguments, after the author's commands.
		for len(cmds) > 1 {
			name, ok := bareIdent(cmds[len(cmds)-1])
			if !ok || !strings.HasPrefix(name, "_html_template_") {
				break
			}
			escapers = append([]string{name}, escapers...)
			cmds = cmds[:len(cmds)-1]
		}
		if len(escapers) == 0 {
			return fastOp{}, false
		}
	}
	op, ok := fastValue(cmds)
	if !ok {
		return fastOp{}, false
	}
	return withEscapers(op, escapers, html)
}

// fastValue matches the author's part of a pipeline: a field, or a helper
// call, with `default "literal"` allowed after an attribute.
func fastValue(cmds []*parse.CommandNode) (fastOp, bool) {
	first := cmds[0]
	if len(cmds) == 2 {
		def, ok := defaultLiteral(cmds[1])
		if !ok {
			return fastOp{}, false
		}
		op, ok := fastValue(cmds[:1])
		if !ok || op.kind != fastAttr {
			return fastOp{}, false
		}
		op.def, op.hasDef = def, true
		return op, true
	}
	if len(cmds) != 1 {
		return fastOp{}, false
	}
	if len(first.Args) == 1 {
		if f, ok := first.Args[0].(*parse.FieldNode); ok {
			get := fastFields[joinIdent(f.Ident)]
			if get == nil {
				return fastOp{}, false
			}
			return fastOp{kind: fastField, field: get}, true
		}
	}
	name, ok := identAt(first, 0)
	if !ok || len(first.Args) < 2 || !isDollar(first.Args[1]) {
		return fastOp{}, false
	}
	args := first.Args[2:]
	switch name {
	case "peykar_href", "peykar_click":
		idx, ok := intArg(args)
		if !ok {
			return fastOp{}, false
		}
		kind := fastHref
		if name == "peykar_click" {
			kind = fastClick
		}
		return fastOp{kind: kind, idx: idx}, true
	case "peykar_unsubscribe", "peykar_extras":
		if len(args) != 0 {
			return fastOp{}, false
		}
		if name == "peykar_extras" {
			return fastOp{kind: fastExtras}, true
		}
		return fastOp{kind: fastUnsub}, true
	case "peykar_attr", attrOptional:
		if len(args) != 1 {
			return fastOp{}, false
		}
		s, ok := args[0].(*parse.StringNode)
		if !ok {
			return fastOp{}, false
		}
		return fastOp{kind: fastAttr, key: s.Text, optional: name == attrOptional}, true
	}
	return fastOp{}, false
}

// withEscapers checks that escapers are what html/template appends to op's
// value in a context the fast path reproduces, and marks op accordingly.
// In a text part (html false) values are printed as they are.
func withEscapers(op fastOp, escapers []string, html bool) (fastOp, bool) {
	if !html {
		return op, len(escapers) == 0
	}
	is := func(want ...string) bool { return slices.Equal(escapers, want) }
	switch op.kind {
	case fastField, fastAttr:
		// Element content: htmlEscaper of a plain string.
		op.escape = true
		return op, is(escHTML)
	case fastHref:
		// An HTMLAttr in attribute-name position passes htmlNameFilter
		// unchanged.
		return op, is(escNameFilter)
	case fastExtras:
		// HTML passes htmlEscaper unchanged.
		return op, is(escHTML)
	case fastUnsub:
		// A URL in a quoted attribute: urlFilter passes a URL unchanged,
		// then urlNormalizer and attrEscaper do what writeURLAttr does.
		op.kind = fastUnsubAttr
		return op, is(escURLFilter, escURLNorm, escAttr)
	}
	return op, false
}

func bareIdent(c *parse.CommandNode) (string, bool) {
	if len(c.Args) != 1 {
		return "", false
	}
	return identAt(c, 0)
}

func identAt(c *parse.CommandNode, i int) (string, bool) {
	if len(c.Args) <= i {
		return "", false
	}
	id, ok := c.Args[i].(*parse.IdentifierNode)
	if !ok {
		return "", false
	}
	return id.Ident, true
}

func isDollar(n parse.Node) bool {
	v, ok := n.(*parse.VariableNode)
	return ok && len(v.Ident) == 1 && v.Ident[0] == "$"
}

func intArg(args []parse.Node) (int, bool) {
	if len(args) != 1 {
		return 0, false
	}
	n, ok := args[0].(*parse.NumberNode)
	if !ok || !n.IsInt {
		return 0, false
	}
	return int(n.Int64), true
}

// defaultLiteral matches `default "literal"` as a pipeline stage.
func defaultLiteral(c *parse.CommandNode) (string, bool) {
	name, ok := identAt(c, 0)
	if !ok || name != "default" || len(c.Args) != 2 {
		return "", false
	}
	s, ok := c.Args[1].(*parse.StringNode)
	if !ok {
		return "", false
	}
	return s.Text, true
}

func joinIdent(ident []string) string {
	switch len(ident) {
	case 1:
		return ident[0]
	case 2:
		return ident[0] + "." + ident[1]
	}
	return ""
}

// fast renders ops into the budget's part, as text/template would. It
// reports false when the part must be rendered by text/template instead: a
// value that is not a string, or any error (a missing attribute, a link
// that fails, the output cap, a cancelled context), so the error returned
// is text/template's own.
func (v *view) fast(ops []fastOp) bool {
	for i := range ops {
		op := &ops[i]
		var s string
		switch op.kind {
		case fastText:
			if _, err := v.budget.Write(op.text); err != nil {
				return false
			}
			continue
		case fastField:
			s = op.field(v)
		case fastAttr:
			var val any
			var err error
			if op.optional {
				val, err = attrOptionalFunc(v, op.key)
			} else {
				val, err = attrFunc(v, op.key)
			}
			if err != nil {
				return false
			}
			if op.hasDef {
				val = defaultFunc(op.def, val)
			}
			str, ok := val.(string)
			if !ok {
				return false
			}
			s = str
		case fastHref:
			a, err := hrefFunc(v, op.idx)
			if err != nil {
				return false
			}
			s = string(a)
		case fastClick:
			u, err := clickFunc(v, op.idx)
			if err != nil {
				return false
			}
			s = string(u)
		case fastUnsub:
			s = string(unsubscribeFunc(v))
		case fastUnsubAttr:
			a := byteAppender{v.esc[:0]}
			writeURLAttr(&a, string(unsubscribeFunc(v)))
			v.esc = a.b
			if _, err := v.budget.Write(v.esc); err != nil {
				return false
			}
			continue
		case fastExtras:
			s = string(extrasFunc(v))
		}
		if op.escape {
			v.esc = appendEscapedHTML(v.esc[:0], s)
			if _, err := v.budget.Write(v.esc); err != nil {
				return false
			}
			continue
		}
		if _, err := v.budget.WriteString(s); err != nil {
			return false
		}
	}
	return true
}

// appendEscapedHTML appends s as html/template's htmlEscaper writes a
// plain string: NUL, quotes, &, + and angle brackets replaced. They are all
// ASCII, which never occurs inside a multi-byte UTF-8 sequence, so a byte
// scan replaces exactly the runes htmlEscaper does (invalid UTF-8 passes
// through unchanged in both).
func appendEscapedHTML(b []byte, s string) []byte {
	last := 0
	for i := 0; i < len(s); i++ {
		var repl string
		switch s[i] {
		case 0:
			repl = "\uFFFD"
		case '"':
			repl = "&#34;"
		case '&':
			repl = "&amp;"
		case '\'':
			repl = "&#39;"
		case '+':
			repl = "&#43;"
		case '<':
			repl = "&lt;"
		case '>':
			repl = "&gt;"
		default:
			continue
		}
		b = append(b, s[last:i]...)
		b = append(b, repl...)
		last = i + 1
	}
	return append(b, s[last:]...)
}

// byteAppender appends to a byte slice what writeURLAttr writes.
type byteAppender struct{ b []byte }

func (a *byteAppender) WriteString(s string) (int, error) {
	a.b = append(a.b, s...)
	return len(s), nil
}

func (a *byteAppender) WriteByte(c byte) error {
	a.b = append(a.b, c)
	return nil
}
