package segments

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/parser"
)

// NotFitError says why a rule has no builder form (it stays text).
type NotFitError struct {
	// Reason names the part the builder cannot show.
	Reason string
}

func (e *NotFitError) Error() string { return "the rule does not fit the builder: " + e.Reason }

func notFit(format string, args ...any) error {
	return &NotFitError{Reason: fmt.Sprintf(format, args...)}
}

// ParseBuilder reads a rule into the builder's tree with expr's parser. The
// rule must compile (CompileSegment's error otherwise). A rule made of
// shapes the builder does not write gives a *NotFitError; one it does gives
// the normalised tree, so Rule(ParseBuilder(r)) reads like r.
func ParseBuilder(rule string) (Node, error) {
	if _, err := CompileSegment(rule); err != nil {
		return Node{}, err
	}
	src := strings.TrimSpace(rule)
	if src == "" || src == "true" {
		return Node{Match: "all"}, nil
	}
	tree, err := parser.Parse(rule)
	if err != nil {
		return Node{}, positioned(rule, err)
	}
	var root Node
	if op := logical(tree.Node); op != "" {
		root, err = parseGroup(tree.Node, op)
	} else {
		var items []Node
		items, err = parseLeaves([]ast.Node{tree.Node})
		root = Node{Match: "all", Items: items}
	}
	if err != nil {
		return Node{}, err
	}
	return Normalize(root)
}

// logical is "all" for &&, "any" for ||, else "".
func logical(n ast.Node) string {
	b, ok := n.(*ast.BinaryNode)
	if !ok {
		return ""
	}
	switch b.Operator {
	case "&&", "and":
		return "all"
	case "||", "or":
		return "any"
	}
	return ""
}

// parseGroup reads a chain of one logical operator as a group: operands of
// the other operator are subgroups, the rest conditions.
func parseGroup(n ast.Node, match string) (Node, error) {
	var operands []ast.Node
	flatten(n, match, &operands)
	g := Node{Match: match}
	var leaves []ast.Node
	flush := func() error {
		items, err := parseLeaves(leaves)
		g.Items = append(g.Items, items...)
		leaves = nil
		return err
	}
	for _, o := range operands {
		sub := logical(o)
		if sub == "" {
			leaves = append(leaves, o)
			continue
		}
		if err := flush(); err != nil {
			return Node{}, err
		}
		s, err := parseGroup(o, sub)
		if err != nil {
			return Node{}, err
		}
		g.Items = append(g.Items, s)
	}
	if err := flush(); err != nil {
		return Node{}, err
	}
	return g, nil
}

func flatten(n ast.Node, match string, out *[]ast.Node) {
	if logical(n) == match {
		b := n.(*ast.BinaryNode)
		flatten(b.Left, match, out)
		flatten(b.Right, match, out)
		return
	}
	*out = append(*out, n)
}

// parseLeaves reads consecutive conditions; a `lo <= f` followed by
// `f <= hi` is one between.
func parseLeaves(ns []ast.Node) ([]Node, error) {
	var out []Node
	for i := 0; i < len(ns); i++ {
		if lo, field, ok := lowerBound(ns[i]); ok {
			if i+1 < len(ns) {
				if c, ok := upperBound(ns[i+1], field); ok {
					out = append(out, Node{Field: field, Op: "between", Value: lo, Value2: c})
					i++
					continue
				}
			}
			return nil, notFit("%s is half of a between", describe(ns[i]))
		}
		c, err := parseCondition(ns[i])
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// lowerBound matches `number <= field`.
func lowerBound(n ast.Node) (lo, field string, ok bool) {
	b, isBin := n.(*ast.BinaryNode)
	if !isBin || b.Operator != "<=" {
		return "", "", false
	}
	lo, ok = number(b.Left)
	if !ok {
		return "", "", false
	}
	field, ok = fieldName(b.Right)
	return lo, field, ok
}

// upperBound matches `field <= number` on the given field.
func upperBound(n ast.Node, field string) (string, bool) {
	b, ok := n.(*ast.BinaryNode)
	if !ok || b.Operator != "<=" {
		return "", false
	}
	if f, ok := fieldName(b.Left); !ok || f != field {
		return "", false
	}
	return number(b.Right)
}

// parseCondition reads one comparison, has_tag or days_since condition.
func parseCondition(n ast.Node) (Node, error) {
	if c, ok := parseEventCondition(n); ok {
		return c, nil
	}
	switch x := n.(type) {
	case *ast.UnaryNode:
		if x.Operator == "!" || x.Operator == "not" {
			if tag, ok := hasTag(x.Node); ok {
				return Node{Field: "contact.tags", Op: "has_not", Value: tag}, nil
			}
		}
	case *ast.CallNode:
		if tag, ok := hasTag(x); ok {
			return Node{Field: "contact.tags", Op: "has", Value: tag}, nil
		}
	case *ast.BinaryNode:
		if c, ok := parseDays(x); ok {
			return c, nil
		}
		if field, ok := fieldName(x.Left); ok {
			if c, ok := parseComparison(field, x.Operator, x.Right); ok {
				return c, nil
			}
		}
	}
	return Node{}, notFit("%s", describe(n))
}

// parseComparison reads `field op literal` for the literal's kind.
func parseComparison(field, op string, lit ast.Node) (Node, bool) {
	kind := fieldKind(field)
	if s, ok := lit.(*ast.StringNode); ok && (kind == KindText || kind == "attribute") {
		ops := map[string]string{"==": "is", "!=": "is_not", "contains": "contains", "startsWith": "starts_with"}
		if o, ok := ops[op]; ok {
			return Node{Field: field, Op: o, Value: s.Value}, true
		}
	}
	if arr, ok := lit.(*ast.ArrayNode); ok && op == "in" && (kind == KindText || kind == "attribute") {
		if vs, ok := stringList(arr); ok {
			return Node{Field: field, Op: "one_of", Values: vs}, true
		}
	}
	if b, ok := lit.(*ast.BoolNode); ok && op == "==" && (kind == KindBool || kind == "attribute") {
		if b.Value {
			return Node{Field: field, Op: "is_true"}, true
		}
		return Node{Field: field, Op: "is_false"}, true
	}
	if v, ok := number(lit); ok && (kind == KindNumber || kind == "attribute") {
		for name, sym := range numberOps {
			if sym == op {
				return Node{Field: field, Op: name, Value: v}, true
			}
		}
	}
	if call, ok := lit.(*ast.BuiltinNode); ok && kind == KindDate && (op == "<" || op == ">") && call.Name == "date" && len(call.Arguments) == 1 {
		if s, ok := call.Arguments[0].(*ast.StringNode); ok && dateRe.MatchString(s.Value) {
			if op == "<" {
				return Node{Field: field, Op: "before", Value: s.Value}, true
			}
			return Node{Field: field, Op: "after", Value: s.Value}, true
		}
	}
	return Node{}, false
}

// parseDays reads `days_since(field) < n` and `days_since(field) > n`.
func parseDays(b *ast.BinaryNode) (Node, bool) {
	call, ok := b.Left.(*ast.CallNode)
	if !ok || len(call.Arguments) != 1 || (b.Operator != "<" && b.Operator != ">") {
		return Node{}, false
	}
	if id, ok := call.Callee.(*ast.IdentifierNode); !ok || id.Value != "days_since" {
		return Node{}, false
	}
	field, ok := fieldName(call.Arguments[0])
	if !ok || fieldKind(field) != KindDate {
		return Node{}, false
	}
	n, ok := b.Right.(*ast.IntegerNode)
	if !ok || n.Value < 0 || n.Value > maxDays {
		return Node{}, false
	}
	op := "last_days"
	if b.Operator == ">" {
		op = "more_days_ago"
	}
	return Node{Field: field, Op: op, Value: strconv.Itoa(n.Value)}, true
}

func hasTag(n ast.Node) (string, bool) {
	call, ok := n.(*ast.CallNode)
	if !ok || len(call.Arguments) != 1 {
		return "", false
	}
	if id, ok := call.Callee.(*ast.IdentifierNode); !ok || id.Value != "has_tag" {
		return "", false
	}
	s, ok := call.Arguments[0].(*ast.StringNode)
	if !ok || s.Value == "" {
		return "", false
	}
	return s.Value, true
}

// fieldName reads a member chain such as stats.revenue or
// contact.attributes["my key"] as a builder field.
func fieldName(n ast.Node) (string, bool) {
	var parts []string
	for {
		switch x := n.(type) {
		case *ast.IdentifierNode:
			parts = append(parts, x.Value)
			for i, j := 0, len(parts)-1; i < j; i, j = i+1, j-1 {
				parts[i], parts[j] = parts[j], parts[i]
			}
			name := strings.Join(parts, ".")
			if len(parts) >= 2 && parts[0] == "contact" && parts[1] == "attributes" {
				if len(parts) != 3 {
					return "", false
				}
				name = attrPrefix + parts[2]
			}
			if fieldKind(name) == "" {
				return "", false
			}
			return name, true
		case *ast.MemberNode:
			s, ok := x.Property.(*ast.StringNode)
			if !ok || x.Optional {
				return "", false
			}
			parts = append(parts, s.Value)
			n = x.Node
		default:
			return "", false
		}
	}
}

// number reads an integer or float literal, negated or not, canonically.
func number(n ast.Node) (string, bool) {
	neg := false
	if u, ok := n.(*ast.UnaryNode); ok && u.Operator == "-" {
		neg, n = true, u.Node
	}
	var s string
	switch x := n.(type) {
	case *ast.IntegerNode:
		s = strconv.Itoa(x.Value)
	case *ast.FloatNode:
		s = strconv.FormatFloat(x.Value, 'f', -1, 64)
	default:
		return "", false
	}
	if neg {
		s = "-" + s
	}
	c, err := canonicalNumber(s)
	return c, err == nil
}

// describe names a node for a NotFitError: its position in the rule.
func describe(n ast.Node) string {
	return fmt.Sprintf("the part at character %d", n.Location().From+1)
}

// stringList reads a list of 1 to maxChoices string literals.
func stringList(arr *ast.ArrayNode) ([]string, bool) {
	if len(arr.Nodes) == 0 || len(arr.Nodes) > maxChoices {
		return nil, false
	}
	vs := make([]string, len(arr.Nodes))
	for i, n := range arr.Nodes {
		s, ok := n.(*ast.StringNode)
		if !ok {
			return nil, false
		}
		vs[i] = s.Value
	}
	return vs, true
}
