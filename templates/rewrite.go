package templates

import (
	"strconv"
	"text/template/parse"
)

// bound maps the recipient-dependent helpers to the functions that
// implement them, which take the render state ($) first.
var bound = map[string]string{
	"attr":            "peykar_attr",
	"unsubscribe_url": "peykar_unsubscribe",
}

// attrOptional is attr where a missing attribute is nil instead of an
// error: used when a default follows ({{ attr "x" | default "y" }}) and for
// a bare condition ({{ if .Contact.Attributes.vip }}: false when missing).
const attrOptional = "peykar_attr_optional"

// bind rewrites tree so a template parsed once can serve every recipient
// concurrently:
//
//   - calls of the recipient-dependent helpers pass the render state ($):
//     {{ attr "city" }} becomes {{ peykar_attr $ "city" }};
//
//   - direct attribute reads become attr calls, so both spellings behave
//     the same: {{ .Contact.Attributes.city }} is {{ attr "city" }}.
//
//   - the string-making helpers pass it too, so they count against the
//     render budget (see boundHelpers), and values passed to methods are
//     guarded (see guardMethods);
//
//   - every loop body starts by counting its iteration (see countLoop).
//
// It rejects sub-templates ({{ template }}, {{ block }}), inside which $
// would not be the render state. html marks an html/template tree, whose
// output actions keep html and urlquery by name: html/template merges
// them with its own escaping, or refuses them.
func bind(tree *parse.Tree, html bool) error {
	if tree == nil || tree.Root == nil {
		return nil
	}
	return binder{html}.bindNode(tree.Root, true)
}

// binder rewrites one tree (see bind).
type binder struct{ html bool }

// bindNode walks n; rooted reports whether dot is still the message data
// (not rebound by range or with).
func (b binder) bindNode(n parse.Node, rooted bool) error {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return nil
		}
		for _, c := range n.Nodes {
			if err := b.bindNode(c, rooted); err != nil {
				return err
			}
		}
	case *parse.ActionNode:
		b.bindPipe(n.Pipe, rooted, false, len(n.Pipe.Decl) == 0)
	case *parse.IfNode:
		return b.bindBranch(&n.BranchNode, rooted, true, rooted)
	case *parse.RangeNode:
		if err := b.bindBranch(&n.BranchNode, rooted, false, false); err != nil {
			return err
		}
		countLoop(n)
	case *parse.WithNode:
		return b.bindBranch(&n.BranchNode, rooted, true, false)
	case *parse.TemplateNode:
		return &positionError{pos: int(n.Position()), msg: "sub-templates ({{ template }}, {{ block }}) are not supported"}
	}
	return nil
}

func (b binder) bindBranch(br *parse.BranchNode, rooted, cond, bodyRooted bool) error {
	b.bindPipe(br.Pipe, rooted, cond, false)
	if err := b.bindNode(br.List, bodyRooted); err != nil {
		return err
	}
	if br.ElseList != nil {
		return b.bindNode(br.ElseList, rooted)
	}
	return nil
}

func dollar(pos parse.Pos) *parse.VariableNode {
	return &parse.VariableNode{NodeType: parse.NodeVariable, Pos: pos, Ident: []string{"$"}}
}

func ident(name string, pos parse.Pos) *parse.IdentifierNode {
	return parse.NewIdentifier(name).SetPos(pos)
}

// attrCall is the command (fn $ "key").
func attrCall(fn, key string, pos parse.Pos) []parse.Node {
	return []parse.Node{ident(fn, pos), dollar(pos),
		&parse.StringNode{NodeType: parse.NodeString, Pos: pos, Quoted: strconv.Quote(key), Text: key}}
}

// attrKey recognises a direct attribute read: .Contact.Attributes.key (with
// dot still the message data) or $.Contact.Attributes.key.
func attrKey(n parse.Node, rooted bool) (string, bool) {
	switch n := n.(type) {
	case *parse.FieldNode:
		if rooted && len(n.Ident) == 3 && n.Ident[0] == "Contact" && n.Ident[1] == "Attributes" {
			return n.Ident[2], true
		}
	case *parse.VariableNode:
		if len(n.Ident) == 4 && n.Ident[0] == "$" && n.Ident[1] == "Contact" && n.Ident[2] == "Attributes" {
			return n.Ident[3], true
		}
	}
	return "", false
}

// bindPipe rewrites the commands of p. cond marks the pipeline of an if or
// with, where a lone attribute read tests presence; output marks the
// pipeline of an action that prints.
func (b binder) bindPipe(p *parse.PipeNode, rooted, cond, output bool) {
	if p == nil {
		return
	}
	lone := cond && len(p.Cmds) == 1 && len(p.Decl) == 0
	for k, cmd := range p.Cmds {
		optional := lone || pipedToDefault(p, k)
		if len(cmd.Args) == 1 {
			if key, ok := attrKey(cmd.Args[0], rooted); ok {
				fn := bound["attr"]
				if optional {
					fn = attrOptional
				}
				cmd.Args = attrCall(fn, key, cmd.Args[0].Position())
				continue
			}
		}
		for i := 0; i < len(cmd.Args); i++ {
			switch a := cmd.Args[i].(type) {
			case *parse.IdentifierNode:
				fn, ok := bound[a.Ident]
				if !ok {
					fn, ok = boundHelpers[a.Ident]
					if !ok || b.html && output && i == 0 && (a.Ident == "html" || a.Ident == "urlquery") {
						continue
					}
				}
				if a.Ident == "attr" && i == 0 && optional {
					fn = attrOptional
				}
				a.Ident = fn
				if i == 0 { // the command's function: add $ as its first argument
					cmd.Args = append([]parse.Node{a, dollar(a.Pos)}, cmd.Args[1:]...)
					i++
					continue
				}
				// An argument: a call without arguments, now (fn $).
				cmd.Args[i] = pipe(a.Pos, []parse.Node{a, dollar(a.Pos)})
			case *parse.FieldNode, *parse.VariableNode:
				if key, ok := attrKey(a, rooted); ok && i > 0 {
					cmd.Args[i] = pipe(a.Position(), attrCall(bound["attr"], key, a.Position()))
				}
			case *parse.PipeNode:
				b.bindPipe(a, rooted, false, false)
			case *parse.ChainNode:
				if pn, ok := a.Node.(*parse.PipeNode); ok {
					b.bindPipe(pn, rooted, false, false)
				}
			}
		}
	}
	guardMethods(p)
}

// pipe wraps one command as a parenthesised pipeline.
func pipe(pos parse.Pos, args []parse.Node) *parse.PipeNode {
	return &parse.PipeNode{NodeType: parse.NodePipe, Pos: pos,
		Cmds: []*parse.CommandNode{{NodeType: parse.NodeCommand, Pos: pos, Args: args}}}
}

// pipedToDefault reports whether command k of p is followed by default.
func pipedToDefault(p *parse.PipeNode, k int) bool {
	if k+1 >= len(p.Cmds) || len(p.Cmds[k+1].Args) == 0 {
		return false
	}
	id, ok := p.Cmds[k+1].Args[0].(*parse.IdentifierNode)
	return ok && id.Ident == "default"
}

// positionError is an error at a byte offset of a template source;
// fieldError turns it into line and column.
type positionError struct {
	pos int
	msg string
}

func (e *positionError) Error() string { return e.msg }

// dotToVar makes the dot of a personalised link's own template the dot at
// the link's place in the document: . becomes $.PeykarDot and .x.y becomes
// $.PeykarDot.x.y ($ stays the render state, for attr and the like).
func dotToVar(n parse.Node) {
	switch n := n.(type) {
	case *parse.ListNode:
		if n != nil {
			for _, c := range n.Nodes {
				dotToVar(c)
			}
		}
	case *parse.ActionNode:
		dotToVarPipe(n.Pipe)
	case *parse.IfNode:
		dotToVarBranch(&n.BranchNode)
	case *parse.RangeNode:
		dotToVarBranch(&n.BranchNode)
	case *parse.WithNode:
		dotToVarBranch(&n.BranchNode)
	}
}

func dotToVarBranch(b *parse.BranchNode) {
	dotToVarPipe(b.Pipe) // the bodies run with their own dot
}

func dotToVarPipe(p *parse.PipeNode) {
	if p == nil {
		return
	}
	for _, cmd := range p.Cmds {
		for i, arg := range cmd.Args {
			switch a := arg.(type) {
			case *parse.DotNode:
				cmd.Args[i] = &parse.VariableNode{NodeType: parse.NodeVariable, Pos: a.Pos, Ident: []string{"$", "PeykarDot"}}
			case *parse.FieldNode:
				cmd.Args[i] = &parse.VariableNode{NodeType: parse.NodeVariable, Pos: a.Pos,
					Ident: append([]string{"$", "PeykarDot"}, a.Ident...)}
			case *parse.PipeNode:
				dotToVarPipe(a)
			case *parse.ChainNode:
				if pn, ok := a.Node.(*parse.PipeNode); ok {
					dotToVarPipe(pn)
				}
			}
		}
	}
}
