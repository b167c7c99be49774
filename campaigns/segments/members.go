package segments

import (
	"fmt"
	"reflect"
	"sort"
	"strings"

	"github.com/expr-lang/expr/ast"

	"github.com/peykar/peykar/internal/errs"
	"github.com/peykar/peykar/internal/exprpos"
)

// envMembers are, for each struct variable of the segment environment
// (contact, stats, rfm…), the names its fields answer to.
var envMembers = func() map[string]map[string]bool {
	out := map[string]map[string]bool{}
	t := reflect.TypeFor[segmentEnv]()
	for i := range t.NumField() {
		f := t.Field(i)
		name := f.Tag.Get("expr")
		// This package's structs only: now (a time.Time) has methods.
		if name == "" || f.Type.Kind() != reflect.Struct || f.Type.PkgPath() != t.PkgPath() {
			continue
		}
		out[name] = fieldNames(f.Type)
	}
	return out
}()

// fieldNames are the expr names of t's fields, promoted ones included.
func fieldNames(t reflect.Type) map[string]bool {
	names := map[string]bool{}
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Anonymous && f.Type.Kind() == reflect.Struct {
			for n := range fieldNames(f.Type) {
				names[n] = true
			}
			continue
		}
		if n := f.Tag.Get("expr"); n != "" && n != "-" {
			names[n] = true
		}
	}
	return names
}

// checkMembers refuses a field of contact, stats and the other struct
// variables that does not exist. expr's type check misses one passed as a
// function's argument (days_since(contact.last_open_at) compiles, and
// would silently read nothing), so the rule's tree is checked here.
func checkMembers(rule string, tree ast.Node) error {
	v := &memberChecker{}
	ast.Walk(&tree, v)
	if v.bad == nil {
		return nil
	}
	pos := v.bad.Location().From + 1
	line, col := exprpos.LineCol(rule, pos)
	known := make([]string, 0, len(envMembers[v.variable]))
	for n := range envMembers[v.variable] {
		known = append(known, n)
	}
	sort.Strings(known)
	return &errs.Error{Code: errs.Invalid, Field: "rule",
		Message:  fmt.Sprintf("%s has no field %s (it has: %s)", v.variable, v.field, strings.Join(known, ", ")),
		Position: pos, Line: line, Column: col}
}

type memberChecker struct {
	bad             ast.Node
	variable, field string
}

func (m *memberChecker) Visit(n *ast.Node) {
	mn, ok := (*n).(*ast.MemberNode)
	if !ok || m.bad != nil {
		return
	}
	id, ok := mn.Node.(*ast.IdentifierNode)
	if !ok {
		return
	}
	fields, ok := envMembers[id.Value]
	if !ok {
		return
	}
	p, ok := mn.Property.(*ast.StringNode)
	if !ok || fields[p.Value] {
		return
	}
	m.bad, m.variable, m.field = p, id.Value, p.Value
}
