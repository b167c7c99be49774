package templates

import "text/template/parse"

// bound maps the recipient-dependent helpers to the functions that
// implement them, which take the render state ($) first.
var bound = map[string]string{
	"attr":            "peykar_attr",
	"unsubscribe_url": "peykar_unsubscribe",
}

// bind rewrites calls of the recipient-dependent helpers in tree into calls
// that pass the root data ($), the render state, so a template parsed once
// can serve every recipient concurrently: {{ attr "city" }} becomes
// {{ peykar_attr $ "city" }}. It also rejects sub-templates
// ({{ template }}, {{ block }}), inside which $ would not be the render state.
func bind(tree *parse.Tree) error {
	if tree == nil || tree.Root == nil {
		return nil
	}
	return bindNode(tree.Root)
}

func bindNode(n parse.Node) error {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return nil
		}
		for _, c := range n.Nodes {
			if err := bindNode(c); err != nil {
				return err
			}
		}
	case *parse.ActionNode:
		bindPipe(n.Pipe)
	case *parse.IfNode:
		return bindBranch(&n.BranchNode)
	case *parse.RangeNode:
		return bindBranch(&n.BranchNode)
	case *parse.WithNode:
		return bindBranch(&n.BranchNode)
	case *parse.TemplateNode:
		return &positionError{pos: int(n.Position()), msg: "sub-templates ({{ template }}, {{ block }}) are not supported"}
	}
	return nil
}

func bindBranch(b *parse.BranchNode) error {
	bindPipe(b.Pipe)
	if err := bindNode(b.List); err != nil {
		return err
	}
	if b.ElseList != nil {
		return bindNode(b.ElseList)
	}
	return nil
}

func dollar(pos parse.Pos) *parse.VariableNode {
	return &parse.VariableNode{NodeType: parse.NodeVariable, Pos: pos, Ident: []string{"$"}}
}

func bindPipe(p *parse.PipeNode) {
	if p == nil {
		return
	}
	for k, cmd := range p.Cmds {
		for i := 0; i < len(cmd.Args); i++ {
			switch a := cmd.Args[i].(type) {
			case *parse.IdentifierNode:
				fn, ok := bound[a.Ident]
				if !ok {
					continue
				}
				if a.Ident == "attr" && i == 0 && pipedToDefault(p, k) {
					fn = "peykar_attr_optional" // {{ attr "x" | default "y" }}
				}
				a.Ident = fn
				if i == 0 { // the command's function: add $ as its first argument
					cmd.Args = append([]parse.Node{a, dollar(a.Pos)}, cmd.Args[1:]...)
					i++
					continue
				}
				// An argument: a call without arguments, now (fn $).
				cmd.Args[i] = &parse.PipeNode{NodeType: parse.NodePipe, Pos: a.Pos, Cmds: []*parse.CommandNode{
					{NodeType: parse.NodeCommand, Pos: a.Pos, Args: []parse.Node{a, dollar(a.Pos)}},
				}}
			case *parse.PipeNode:
				bindPipe(a)
			case *parse.ChainNode:
				if pn, ok := a.Node.(*parse.PipeNode); ok {
					bindPipe(pn)
				}
			}
		}
	}
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
