package exprbudget

import (
	"reflect"
	"strings"

	"github.com/expr-lang/expr/builtin"
	"github.com/expr-lang/expr/vm/runtime"
)

// cheap are the built-ins whose work and result are constant-sized
// whatever their arguments: they keep expr's own implementation. (int,
// float and duration parse strings, so they are metered by their size.)
var cheap = map[string]bool{
	"type": true, "abs": true, "ceil": true, "floor": true, "round": true,
	"now": true, "get": true, "bitand": true, "bitor": true, "bitxor": true,
	"bitnand": true, "bitshl": true, "bitshr": true, "bitushr": true, "bitnot": true,
}

// timezoneCost is what one timezone() call costs: it reads and parses a
// zoneinfo file.
const timezoneCost = 10000

// preSize computes, before the call, the size of what the built-in would
// build, for those that can build far more than they read. Others are
// charged after the call by the size of their result, which is bounded by
// what they read.
var preSize = map[string]func(args []any) int{
	"repeat": func(args []any) int {
		s, _ := args[0].(string)
		n := runtime.ToInt(args[1])
		if n <= 0 || len(s) == 0 {
			return 0
		}
		if n > Units || len(s) > Units/n {
			return Units + 1
		}
		return len(s) * n
	},
	"replace": func(args []any) int {
		s, _ := args[0].(string)
		old, _ := args[1].(string)
		repl, _ := args[2].(string)
		n := strings.Count(s, old)
		if len(args) == 4 {
			if limit := runtime.ToInt(args[3]); limit >= 0 && limit < n {
				n = limit
			}
		}
		if n > 0 && len(repl) > len(old) && n > Units/(len(repl)-len(old)) {
			return Units + 1
		}
		return len(s) + n*(len(repl)-len(old))
	},
	"join": func(args []any) int {
		glue := ""
		if len(args) == 2 {
			glue, _ = args[1].(string)
		}
		v := reflect.ValueOf(args[0])
		if v.Kind() != reflect.Slice && v.Kind() != reflect.Array {
			return 0
		}
		total := 0
		for i := range v.Len() {
			total += textSize(v.Index(i).Interface(), Units+1-total) + len(glue)
			if total > Units {
				return Units + 1
			}
		}
		return total
	},
	"string": func(args []any) int { return textSize(args[0], Units+1) },
	"toJSON": func(args []any) int { return 2 * textSize(args[0], Units+1) },
	// flatten's result is as deep as its argument, which shared nested
	// arrays (map(xs, ys)) make far larger than it looks.
	"flatten": func(args []any) int { return deepSize(args[0], Units+1) },
	// uniq compares each element with those it kept.
	"uniq": func(args []any) int {
		n := shallowSize(args[0])
		if n > 1000 {
			return min(mul(n, n), Units+1)
		}
		return n * n
	},
	"timezone": func([]any) int { return timezoneCost },
}

// init meters expr's built-ins for the whole process, and adds the
// metered operators the patcher calls. It has to be process-wide: expr
// charges its VM's budget only for the built-ins in its global table (a
// "Safe" function reports its cost; functions given with expr.Function
// cannot), and every expression Peykar compiles is one a user wrote.
//
// Each built-in that reads or builds something of variable size is
// replaced by a copy that keeps its name, types and validation and charges
// the budget.
func init() {
	for i, f := range builtin.Builtins {
		if f.Predicate || cheap[f.Name] {
			continue
		}
		m := *f
		m.Fast, m.Func, m.Safe = nil, nil, meter(f.Name, call(f), preSize[f.Name])
		builtin.Builtins[i] = &m
	}
	for _, f := range meteredOperators() {
		builtin.Index[f.Name] = len(builtin.Builtins)
		builtin.Builtins = append(builtin.Builtins, f)
		builtin.Names = append(builtin.Names, f.Name)
	}
}

// call returns the built-in's implementation as a Safe function.
func call(f *builtin.Function) func(args ...any) (any, uint, error) {
	switch {
	case f.Safe != nil:
		return f.Safe
	case f.Func != nil:
		fn := f.Func
		return func(args ...any) (any, uint, error) {
			out, err := fn(args...)
			return out, 0, err
		}
	default:
		fn := f.Fast
		return func(args ...any) (any, uint, error) { return fn(args[0]), 0, nil }
	}
}

// meter wraps a function so each call costs what it reads plus what it
// builds, and refuses, before calling it, a result pre says would pass the
// budget on its own.
func meter(name string, fn func(args ...any) (any, uint, error), pre func([]any) int) func(args ...any) (any, uint, error) {
	return func(args ...any) (any, uint, error) {
		cost := 0
		for _, a := range args {
			cost += shallowSize(a)
		}
		if cost > Units || pre != nil && cost+pre(args) > Units {
			return nil, 0, &errExceeded{what: name}
		}
		out, mem, err := fn(args...)
		if err != nil {
			return nil, 0, err
		}
		return out, uint(cost+shallowSize(out)) + mem, nil
	}
}

// shallowSize is what reading or building v costs: the bytes of a string,
// the elements of an array or map, 1 for anything else.
func shallowSize(v any) int {
	switch x := v.(type) {
	case string:
		return len(x) + 1
	case []any:
		return len(x) + 1
	case []string:
		return len(x) + 1
	case map[string]any:
		return len(x) + 1
	case nil, bool, int, int64, float64:
		return 1
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.String, reflect.Slice, reflect.Array, reflect.Map:
		return rv.Len() + 1
	}
	return 1
}

// deepSize counts the elements and bytes of v through nested arrays and
// maps, shared parts once per appearance, and stops once it passes limit.
func deepSize(v any, limit int) int {
	switch x := v.(type) {
	case string:
		return len(x) + 1
	case []any:
		total := 1
		for i := 0; i < len(x) && total <= limit; i++ {
			total += deepSize(x[i], limit-total)
		}
		return total
	case map[string]any:
		total := 1
		for _, e := range x {
			if total > limit {
				break
			}
			total += deepSize(e, limit-total) + 1
		}
		return total
	case nil, bool, int, int64, float64:
		return 1
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Slice, reflect.Array:
		total := 1
		for i := 0; i < rv.Len() && total <= limit; i++ {
			total += deepSize(rv.Index(i).Interface(), limit-total)
		}
		return total
	case reflect.Map:
		total := 1
		it := rv.MapRange()
		for it.Next() && total <= limit {
			total += deepSize(it.Value().Interface(), limit-total) + 1
		}
		return total
	case reflect.String:
		return rv.Len() + 1
	}
	return 1
}

// textSize estimates the length of v written as text, walking arrays and
// maps, and stops counting once it passes limit.
func textSize(v any, limit int) int {
	switch x := v.(type) {
	case string:
		return len(x) + 2 // quotes in JSON
	case nil, bool:
		return 5
	case int, int64, float64, float32, int32, uint, uint64:
		return 24
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Slice, reflect.Array:
		total := 2
		for i := 0; i < rv.Len() && total <= limit; i++ {
			total += textSize(rv.Index(i).Interface(), limit-total) + 1
		}
		return total
	case reflect.Map:
		total := 2
		it := rv.MapRange()
		for it.Next() && total <= limit {
			total += textSize(it.Key().Interface(), limit-total) + textSize(it.Value().Interface(), limit-total) + 2
		}
		return total
	case reflect.String:
		return rv.Len() + 2
	case reflect.Pointer, reflect.Interface:
		if rv.IsNil() {
			return 5
		}
		return textSize(rv.Elem().Interface(), limit)
	case reflect.Struct:
		total := 64 // a time, or a struct's punctuation
		for i := 0; i < rv.NumField() && total <= limit; i++ {
			if rv.Type().Field(i).IsExported() {
				total += textSize(rv.Field(i).Interface(), limit-total) + 8
			}
		}
		return total
	}
	return 24
}
