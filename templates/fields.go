package templates

import (
	"fmt"
	"reflect"
	"strings"
	"text/template/parse"
)

var dataType = reflect.TypeFor[Data]()

// checkFields checks every field path read from the message data
// (.Contact.Name, $.Campaign.ID) against the Data type, in every branch,
// so a misspelt field fails on save even where the sample contact would not
// reach it ({{ else }} branches, empty ranges). Paths read from a rebound
// dot (inside range or with) are left to the sample execution.
func checkFields(tree *parse.Tree, src string) error {
	if tree == nil || tree.Root == nil {
		return nil
	}
	return fieldChecker{src}.checkNode(tree.Root, true)
}

// fieldChecker holds the source, to place errors exactly.
type fieldChecker struct{ src string }

func (fc fieldChecker) checkNode(n parse.Node, rooted bool) error {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return nil
		}
		for _, c := range n.Nodes {
			if err := fc.checkNode(c, rooted); err != nil {
				return err
			}
		}
	case *parse.ActionNode:
		return fc.checkPipe(n.Pipe, rooted)
	case *parse.IfNode:
		return fc.checkBranch(&n.BranchNode, rooted, rooted)
	case *parse.RangeNode:
		if p := n.Pipe; p != nil && len(p.Cmds) == 1 && len(p.Cmds[0].Args) == 1 {
			if num, ok := p.Cmds[0].Args[0].(*parse.NumberNode); ok && num.IsInt && num.Int64 > MaxRangeCount {
				return &positionError{pos: int(num.Pos), msg: fmt.Sprintf("range over more than %d is not allowed", MaxRangeCount)}
			}
		}
		return fc.checkBranch(&n.BranchNode, rooted, false)
	case *parse.WithNode:
		return fc.checkBranch(&n.BranchNode, rooted, false)
	}
	return nil
}

// MaxRangeCount caps {{ range N }} over a number, so a typo cannot make
// every render loop for minutes.
const MaxRangeCount = 1000

func (fc fieldChecker) checkBranch(b *parse.BranchNode, rooted, bodyRooted bool) error {
	if err := fc.checkPipe(b.Pipe, rooted); err != nil {
		return err
	}
	if err := fc.checkNode(b.List, bodyRooted); err != nil {
		return err
	}
	if b.ElseList != nil {
		return fc.checkNode(b.ElseList, rooted)
	}
	return nil
}

func (fc fieldChecker) checkPipe(p *parse.PipeNode, rooted bool) error {
	if p == nil {
		return nil
	}
	for _, cmd := range p.Cmds {
		for _, arg := range cmd.Args {
			var err error
			switch a := arg.(type) {
			case *parse.FieldNode:
				if rooted {
					err = checkPath(a.Ident, fc.start(int(a.Pos), a.String()), a.String())
				}
			case *parse.VariableNode:
				if len(a.Ident) > 1 && a.Ident[0] == "$" {
					err = checkPath(a.Ident[1:], fc.start(int(a.Pos), a.String())+1, a.String())
				}
			case *parse.PipeNode:
				err = fc.checkPipe(a, rooted)
			case *parse.ChainNode:
				if pn, ok := a.Node.(*parse.PipeNode); ok {
					err = fc.checkPipe(pn, rooted)
				}
			}
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// start finds where a path's text begins: the parser positions a chained
// path (.a.b.c) at one of its later segments, so look back from pos.
func (fc fieldChecker) start(pos int, text string) int {
	for p := min(pos, len(fc.src)); p >= 0 && p >= pos-len(text); p-- {
		if strings.HasPrefix(fc.src[p:], text) {
			return p
		}
	}
	return pos
}

// checkPath walks idents from Data. pos is the byte offset of the path's
// first "."; the error points at the unknown field.
func checkPath(idents []string, pos int, text string) error {
	t := dataType
	for _, id := range idents {
		switch t.Kind() {
		case reflect.Map, reflect.Interface:
			return nil // attributes: free-form, checked at run time
		case reflect.Struct:
		default:
			return &positionError{pos: pos, msg: fmt.Sprintf("<%s>: can't evaluate field %s in type %s", text, id, t)}
		}
		if _, ok := reflect.PointerTo(t).MethodByName(id); ok {
			return nil // a method such as .Contact.CreatedAt.Year
		}
		f, ok := t.FieldByName(id)
		if !ok || !f.IsExported() {
			return &positionError{pos: pos, msg: fmt.Sprintf("<%s>: can't evaluate field %s in type %s", text, id, t.Name())}
		}
		t = f.Type
		pos += 1 + len(id)
	}
	return nil
}
