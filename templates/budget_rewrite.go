package templates

import (
	"strconv"
	"text/template/parse"
)

// loopVar is the variable the count at the start of every loop body
// declares: a declaration prints nothing, and html/template leaves it
// alone in any context.
const loopVar = "$peykar_loop"

// countLoop makes range node n count each of its iterations against the
// render budget, whatever it ranges over (a number, a list, a map, a
// function's result): its body starts with
//
//	{{ $peykar_loop := peykar_loop $ WEIGHT }}
//
// where WEIGHT is the number of template nodes the body runs. The count
// carries the range's position, so a budget error points at the loop.
func countLoop(n *parse.RangeNode) {
	pos := n.Position()
	if n.List == nil {
		n.List = &parse.ListNode{NodeType: parse.NodeList, Pos: pos}
	}
	w := 1 + weight(n.List)
	call := []parse.Node{ident("peykar_loop", pos), dollar(pos),
		&parse.NumberNode{NodeType: parse.NodeNumber, Pos: pos, IsInt: true, Int64: int64(w), Text: strconv.Itoa(w)}}
	p := pipe(pos, call)
	p.Line = n.Line
	p.Decl = []*parse.VariableNode{{NodeType: parse.NodeVariable, Pos: pos, Ident: []string{loopVar}}}
	count := &parse.ActionNode{NodeType: parse.NodeAction, Pos: pos, Line: n.Line, Pipe: p}
	n.List.Nodes = append([]parse.Node{count}, n.List.Nodes...)
}

// weight is the number of nodes n runs each time it runs; a nested loop's
// body is left out (it counts its own iterations).
func weight(n parse.Node) int {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return 0
		}
		w := 0
		for _, c := range n.Nodes {
			w += weight(c)
		}
		return w
	case *parse.ActionNode:
		return 1 + pipeWeight(n.Pipe)
	case *parse.IfNode:
		return 1 + pipeWeight(n.Pipe) + weight(n.List) + weight(n.ElseList)
	case *parse.WithNode:
		return 1 + pipeWeight(n.Pipe) + weight(n.List) + weight(n.ElseList)
	case *parse.RangeNode:
		return 1 + pipeWeight(n.Pipe) + weight(n.ElseList)
	case nil:
		return 0
	}
	return 1
}

func pipeWeight(p *parse.PipeNode) int {
	if p == nil {
		return 0
	}
	w := 1
	for _, cmd := range p.Cmds {
		w++
		for _, a := range cmd.Args {
			switch a := a.(type) {
			case *parse.PipeNode:
				w += pipeWeight(a)
			case *parse.ChainNode:
				w++
				if p, ok := a.Node.(*parse.PipeNode); ok {
					w += pipeWeight(p)
				}
			default:
				w++
			}
		}
	}
	return w
}

// guardMethods makes every value passed to a method go through peykar_arg
// (see argFunc): {{ .Contact.CreatedAt.Format $x }} becomes
// {{ .Contact.CreatedAt.Format (peykar_arg $ $x) }}, and a value piped into
// a method passes peykar_arg first. Helpers check their own arguments;
// methods (time.Time's Format) cannot, and their results could otherwise
// feed each other and grow without bound.
func guardMethods(p *parse.PipeNode) {
	guarded := false
	for _, cmd := range p.Cmds {
		guarded = guarded || isMethodCall(cmd)
	}
	if !guarded {
		return
	}
	cmds := make([]*parse.CommandNode, 0, len(p.Cmds)+1)
	for k, cmd := range p.Cmds {
		if isMethodCall(cmd) {
			for i := 1; i < len(cmd.Args); i++ {
				pos := cmd.Args[i].Position()
				cmd.Args[i] = pipe(pos, []parse.Node{ident("peykar_arg", pos), dollar(pos), cmd.Args[i]})
			}
			if k > 0 { // the previous command's value is its last argument
				cmds = append(cmds, pipe(cmd.Pos, []parse.Node{ident("peykar_arg", cmd.Pos), dollar(cmd.Pos)}).Cmds[0])
			}
		}
		cmds = append(cmds, cmd)
	}
	p.Cmds = cmds
}

// isMethodCall reports whether cmd calls a field path (which may be a
// method) with arguments, or could be given a piped value.
func isMethodCall(cmd *parse.CommandNode) bool {
	if len(cmd.Args) == 0 {
		return false
	}
	switch a := cmd.Args[0].(type) {
	case *parse.FieldNode, *parse.ChainNode:
		return true
	case *parse.VariableNode:
		return len(a.Ident) > 1
	}
	return false
}
