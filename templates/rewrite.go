package templates

import (
	"fmt"
	"text/template/parse"
)

// bound maps the recipient-dependent helpers to the methods of the render
// state (view) that implement them.
var bound = map[string]string{
	"attr":            "PeykarAttr",
	"unsubscribe_url": "PeykarUnsubscribe",
}

// bind rewrites calls of the recipient-dependent helpers in tree into method
// calls on the root data ($), so a template parsed once can serve every
// recipient concurrently. It also rejects sub-templates ({{ define }},
// {{ template }}, {{ block }}), inside which $ would not be the message data.
func bind(tree *parse.Tree) error {
	if tree == nil || tree.Root == nil {
		return nil
	}
	return bindNode(tree, tree.Root)
}

func bindNode(tree *parse.Tree, n parse.Node) error {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return nil
		}
		for _, c := range n.Nodes {
			if err := bindNode(tree, c); err != nil {
				return err
			}
		}
	case *parse.ActionNode:
		return bindPipe(tree, n.Pipe)
	case *parse.IfNode:
		return bindBranch(tree, &n.BranchNode)
	case *parse.RangeNode:
		return bindBranch(tree, &n.BranchNode)
	case *parse.WithNode:
		return bindBranch(tree, &n.BranchNode)
	case *parse.TemplateNode:
		return positioned(tree, n, "sub-templates ({{ template }}, {{ block }}) are not supported")
	}
	return nil
}

func bindBranch(tree *parse.Tree, b *parse.BranchNode) error {
	if err := bindPipe(tree, b.Pipe); err != nil {
		return err
	}
	if err := bindNode(tree, b.List); err != nil {
		return err
	}
	if b.ElseList != nil {
		return bindNode(tree, b.ElseList)
	}
	return nil
}

func bindPipe(tree *parse.Tree, p *parse.PipeNode) error {
	if p == nil {
		return nil
	}
	for _, cmd := range p.Cmds {
		for i, arg := range cmd.Args {
			switch a := arg.(type) {
			case *parse.IdentifierNode:
				if m, ok := bound[a.Ident]; ok {
					cmd.Args[i] = &parse.VariableNode{NodeType: parse.NodeVariable, Pos: a.Pos, Ident: []string{"$", m}}
				}
			case *parse.PipeNode:
				if err := bindPipe(tree, a); err != nil {
					return err
				}
			case *parse.ChainNode:
				if pn, ok := a.Node.(*parse.PipeNode); ok {
					if err := bindPipe(tree, pn); err != nil {
						return err
					}
				}
			}
		}
	}
	return nil
}

// positionError is an error at a byte offset of a template source; toError
// turns it into line and column.
type positionError struct {
	pos int
	msg string
}

func (e *positionError) Error() string { return e.msg }

func positioned(_ *parse.Tree, n parse.Node, format string, args ...any) error {
	return &positionError{pos: int(n.Position()), msg: fmt.Sprintf(format, args...)}
}
