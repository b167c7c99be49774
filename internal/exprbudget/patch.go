package exprbudget

import (
	"reflect"

	"github.com/expr-lang/expr/ast"
)

// patcher rewrites a type-checked tree so its costly parts go through the
// metered functions: each closure body first calls $tick with its size,
// and string operators become calls. The checker runs again on the result.
type patcher struct{}

// Visit implements ast.Visitor; expr walks children before parents.
func (p *patcher) Visit(node *ast.Node) {
	switch n := (*node).(type) {
	case *ast.BuiltinNode:
		// sum(xs) and count(xs) loop without a closure: give them the
		// identity closure so their iterations are counted too.
		if (n.Name == "sum" || n.Name == "count") && len(n.Arguments) == 1 {
			pred := &ast.PredicateNode{Node: &ast.PointerNode{}}
			n.Arguments = append(n.Arguments, pred)
			p.Visit(&n.Arguments[1])
		}
	case *ast.PredicateNode:
		tick := &ast.BuiltinNode{
			Name:      fnTick,
			Arguments: []ast.Node{&ast.IntegerNode{Value: 1 + countNodes(n.Node)}},
		}
		seq := &ast.SequenceNode{Nodes: []ast.Node{tick, n.Node}}
		seq.SetLocation(n.Node.Location())
		n.Node = seq
	case *ast.CallNode:
		// A method of a value (now.Format(layout)) works in proportion to
		// its string arguments: each goes through $arg, which bounds and
		// charges it.
		if _, method := n.Callee.(*ast.MemberNode); method {
			for i, a := range n.Arguments {
				if mayBeString(a.Type()) {
					arg := &ast.BuiltinNode{Name: fnArg, Arguments: []ast.Node{a}}
					arg.SetLocation(a.Location())
					n.Arguments[i] = arg
				}
			}
		}
	case *ast.BinaryNode:
		if fn, args := p.operator(n); fn != "" {
			call := &ast.BuiltinNode{Name: fn, Arguments: args}
			call.SetLocation(n.Location())
			ast.Patch(node, call)
		}
	}
}

// operator names the metered function for a binary operator whose work
// grows with its operands, or "" to keep the operator.
func (p *patcher) operator(n *ast.BinaryNode) (string, []ast.Node) {
	args := []ast.Node{n.Left, n.Right}
	switch n.Operator {
	case "+":
		if mayBeString(n.Left.Type()) || mayBeString(n.Right.Type()) {
			return fnAdd, args
		}
	case "contains":
		return fnContains, args
	case "startsWith":
		return fnStartsWith, args
	case "endsWith":
		return fnEndsWith, args
	case "matches":
		if s, ok := n.Right.(*ast.StringNode); ok {
			re, err := compilePattern(s.Value)
			if err != nil {
				return "", nil // the checker or Check reports it
			}
			c := &ast.ConstantNode{Value: re}
			c.SetLocation(s.Location())
			args[1] = c
		}
		return fnMatches, args
	case "==", "!=":
		if mayBeDeep(n.Left.Type()) || mayBeDeep(n.Right.Type()) {
			if n.Operator == "==" {
				return fnEqual, args
			}
			return fnNotEqual, args
		}
	case "in":
		if t := n.Right.Type(); t == nil || t.Kind() == reflect.Interface || t.Kind() == reflect.Slice || t.Kind() == reflect.Array {
			return fnIn, args
		}
	}
	return "", nil
}

// mayBeDeep reports whether a value of type t may be an array or map.
func mayBeDeep(t reflect.Type) bool {
	if t == nil {
		return true
	}
	switch t.Kind() {
	case reflect.Interface, reflect.Slice, reflect.Array, reflect.Map:
		return true
	}
	return false
}

func mayBeString(t reflect.Type) bool {
	return t == nil || t.Kind() == reflect.String || t.Kind() == reflect.Interface
}

// countNodes is the number of nodes in a tree.
func countNodes(n ast.Node) int {
	c := &counter{}
	ast.Walk(&n, c)
	return c.n
}

type counter struct{ n int }

func (c *counter) Visit(*ast.Node) { c.n++ }
