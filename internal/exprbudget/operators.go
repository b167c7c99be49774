package exprbudget

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/expr-lang/expr/builtin"
	"github.com/expr-lang/expr/vm/runtime"
)

// The names the patcher calls, added to expr's built-ins. They start with $
// so they never clash with a variable or function of an environment.
const (
	fnTick       = "$tick"
	fnAdd        = "$add"
	fnContains   = "$contains"
	fnStartsWith = "$startsWith"
	fnEndsWith   = "$endsWith"
	fnMatches    = "$matches"
	fnIn         = "$in"
	fnEqual      = "$eq"
	fnNotEqual   = "$ne"
	fnArg        = "$arg"
)

// maxMethodArg bounds a string passed to a method of a value (a time's
// Format, say), whose work grows with it and which is not otherwise
// metered.
const maxMethodArg = 4096

// meteredOperators are the functions the patcher puts in place of the
// operators whose work grows with their operands.
func meteredOperators() []*builtin.Function {
	return []*builtin.Function{
		{
			Name: fnTick,
			Safe: func(args ...any) (any, uint, error) {
				return true, uint(runtime.ToInt(args[0])), nil
			},
			Types: []reflect.Type{reflect.TypeFor[func(int) bool]()},
		},
		{
			Name: fnAdd,
			Safe: add,
			Types: []reflect.Type{
				reflect.TypeFor[func(string, string) string](),
				reflect.TypeFor[func(any, any) any](),
			},
		},
		stringOp(fnContains, strings.Contains),
		stringOp(fnStartsWith, strings.HasPrefix),
		stringOp(fnEndsWith, strings.HasSuffix),
		{
			Name: fnMatches,
			Safe: matches,
			// The compiled pattern stays a pointer.
			Deref: func(i int, _ reflect.Type) bool { return i == 0 },
			Types: []reflect.Type{
				reflect.TypeFor[func(string, *pattern) bool](),
				reflect.TypeFor[func(any, any) bool](),
			},
		},
		equality(fnEqual, false),
		equality(fnNotEqual, true),
		{
			Name: fnArg,
			Safe: func(args ...any) (any, uint, error) {
				if s, ok := args[0].(string); ok {
					if len(s) > maxMethodArg {
						return nil, 0, &errExceeded{what: fmt.Sprintf("a method's argument of %d bytes (at most %d)", len(s), maxMethodArg)}
					}
					return s, uint(4*len(s) + 1), nil
				}
				return args[0], 1, nil
			},
			Types: []reflect.Type{
				reflect.TypeFor[func(string) string](),
				reflect.TypeFor[func(any) any](),
			},
		},
		{
			Name: fnIn,
			Safe: func(args ...any) (any, uint, error) {
				cost := deepSize(args[0], Units+1) + deepSize(args[1], Units+1)
				if cost > Units {
					return nil, 0, &errExceeded{what: "in"}
				}
				return runtime.In(args[0], args[1]), uint(cost), nil
			},
			Types: []reflect.Type{reflect.TypeFor[func(any, any) bool]()},
		},
	}
}

// add is + for operands that may be strings: a concatenation is sized,
// and refused past the budget, before it is built.
func add(args ...any) (any, uint, error) {
	a, aok := args[0].(string)
	b, bok := args[1].(string)
	if aok && bok {
		n := len(a) + len(b)
		if n > Units {
			return nil, 0, &errExceeded{what: "+"}
		}
		return a + b, uint(n + 1), nil
	}
	return runtime.Add(args[0], args[1]), 1, nil
}

// stringOp meters a string operator by the bytes it scans.
func stringOp(name string, op func(s, sub string) bool) *builtin.Function {
	return &builtin.Function{
		Name: name,
		Safe: func(args ...any) (any, uint, error) {
			if runtime.IsNil(args[0]) || runtime.IsNil(args[1]) {
				return false, 1, nil // as expr's own operator
			}
			s, ok1 := args[0].(string)
			sub, ok2 := args[1].(string)
			if !ok1 || !ok2 {
				return nil, 0, fmt.Errorf("invalid operation: %s %T and %T", strings.TrimPrefix(name, "$"), args[0], args[1])
			}
			cost := len(s) + len(sub) + 1
			if cost > Units {
				return nil, 0, &errExceeded{what: strings.TrimPrefix(name, "$")}
			}
			return op(s, sub), uint(cost), nil
		},
		Types: []reflect.Type{reflect.TypeFor[func(any, any) bool]()},
	}
}

// matches is the matches operator: the pattern is compiled here when it is
// not a constant (the patcher compiles constant patterns once). Go's
// regular expressions run in time linear in the input, so the cost is the
// input times a factor for the pattern's size.
func matches(args ...any) (any, uint, error) {
	if runtime.IsNil(args[0]) || runtime.IsNil(args[1]) {
		return false, 1, nil // as expr's own operator
	}
	var s string
	switch x := args[0].(type) {
	case string:
		s = x
	case []byte:
		s = string(x)
	default:
		return nil, 0, fmt.Errorf("invalid operation: matches %T", args[0])
	}
	p, ok := args[1].(*pattern)
	if !ok {
		src, ok := args[1].(string)
		if !ok {
			return nil, 0, fmt.Errorf("invalid operation: matches %T", args[1])
		}
		var err error
		if p, err = compilePattern(src); err != nil {
			return nil, 0, err
		}
	}
	// Go's matcher runs in time linear in the input, times the program's
	// size at worst.
	cost := mul(len(s)+1, p.size)
	if cost > Units {
		return nil, 0, &errExceeded{what: "matches"}
	}
	return p.re.MatchString(s), uint(cost), nil
}

// equality meters == and != on values that may be arrays or maps, which
// expr compares element by element.
func equality(name string, negate bool) *builtin.Function {
	return &builtin.Function{
		Name: name,
		Safe: func(args ...any) (any, uint, error) {
			cost := deepSize(args[0], Units+1) + deepSize(args[1], Units+1)
			if cost > Units {
				return nil, 0, &errExceeded{what: strings.TrimPrefix(name, "$")}
			}
			return runtime.Equal(args[0], args[1]) != negate, uint(cost), nil
		},
		Types: []reflect.Type{reflect.TypeFor[func(any, any) bool]()},
	}
}
