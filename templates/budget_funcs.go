package templates

import (
	"fmt"
	"reflect"
	"strings"
	texttemplate "text/template"
	"time"
	"unicode/utf8"
)

// The helpers that make strings are bounded: each refuses a value longer
// than MaxValueLen before it works on it, and counts what it makes against
// the part's MaxHelperBytes. Compile rewrites every call of them into a
// call of the peykar_ form that takes the render state ($) first, so they
// can count (see boundHelpers); the plain forms only check sizes and serve
// where html/template must still see the name (a final | html or
// | urlquery, which it merges with its own escaping).

// boundHelpers maps each bounded helper to the function that takes the
// render state.
var boundHelpers = map[string]string{
	"printf":   "peykar_printf",
	"print":    "peykar_print",
	"println":  "peykar_println",
	"html":     "peykar_html",
	"js":       "peykar_js",
	"urlquery": "peykar_urlquery",
	"upper":    "peykar_upper",
	"lower":    "peykar_lower",
	"date":     "peykar_date",
	"number":   "peykar_number",
}

// helperFuncs are the bounded helpers, plain and with the render state.
func helperFuncs() map[string]any {
	var none *budget // plain forms: sizes checked, nothing counted
	return map[string]any{
		"printf":         func(f string, a ...any) (string, error) { return none.printf(f, a...) },
		"print":          func(a ...any) (string, error) { return none.print("print", fmt.Sprint, a) },
		"println":        func(a ...any) (string, error) { return none.print("println", fmt.Sprintln, a) },
		"html":           func(a ...any) (string, error) { return none.escape("html", texttemplate.HTMLEscaper, a) },
		"js":             func(a ...any) (string, error) { return none.escape("js", texttemplate.JSEscaper, a) },
		"urlquery":       func(a ...any) (string, error) { return none.escape("urlquery", texttemplate.URLQueryEscaper, a) },
		"upper":          func(s string) (string, error) { return none.convert("upper", strings.ToUpper, s) },
		"lower":          func(s string) (string, error) { return none.convert("lower", strings.ToLower, s) },
		"date":           func(l string, v any) (string, error) { return none.date(l, v) },
		"number":         func(d int, v any) (string, error) { return none.number(d, v) },
		"peykar_printf":  func(v *view, f string, a ...any) (string, error) { return v.budget.printf(f, a...) },
		"peykar_print":   func(v *view, a ...any) (string, error) { return v.budget.print("print", fmt.Sprint, a) },
		"peykar_println": func(v *view, a ...any) (string, error) { return v.budget.print("println", fmt.Sprintln, a) },
		"peykar_html":    func(v *view, a ...any) (string, error) { return v.budget.escape("html", texttemplate.HTMLEscaper, a) },
		"peykar_js":      func(v *view, a ...any) (string, error) { return v.budget.escape("js", texttemplate.JSEscaper, a) },
		"peykar_urlquery": func(v *view, a ...any) (string, error) {
			return v.budget.escape("urlquery", texttemplate.URLQueryEscaper, a)
		},
		"peykar_upper":  func(v *view, s string) (string, error) { return v.budget.convert("upper", strings.ToUpper, s) },
		"peykar_lower":  func(v *view, s string) (string, error) { return v.budget.convert("lower", strings.ToLower, s) },
		"peykar_date":   func(v *view, l string, x any) (string, error) { return v.budget.date(l, x) },
		"peykar_number": func(v *view, d int, x any) (string, error) { return v.budget.number(d, x) },
		"peykar_loop":   loopFunc,
		"peykar_arg":    argFunc,
	}
}

// result checks and counts a helper's result.
func (b *budget) result(helper, s string) (string, error) {
	if len(s) > MaxValueLen {
		return "", valueTooLong(helper)
	}
	if err := b.spend(len(s)); err != nil {
		return "", err
	}
	return s, nil
}

// printf is fmt.Sprintf, refused before formatting when the result could
// pass MaxValueLen (widths and precisions count, and so does an argument
// each time a verb prints it).
func (b *budget) printf(format string, args ...any) (string, error) {
	if len(format) > MaxValueLen || printfSize(format, args) > MaxValueLen {
		return "", valueTooLong("printf")
	}
	return b.result("printf", fmt.Sprintf(format, args...))
}

// print is fmt.Sprint or fmt.Sprintln, refused before formatting when the
// arguments are too long.
func (b *budget) print(helper string, sprint func(...any) string, args []any) (string, error) {
	if argsSize(args) > MaxValueLen {
		return "", valueTooLong(helper)
	}
	return b.result(helper, sprint(args...))
}

// escape is one of text/template's escapers (at most 6 bytes out for each
// byte in), refused before escaping when the arguments are too long.
func (b *budget) escape(helper string, esc func(...any) string, args []any) (string, error) {
	if argsSize(args) > MaxValueLen {
		return "", valueTooLong(helper)
	}
	s := esc(args...)
	return s, b.spend(len(s))
}

// convert applies a case mapping (at most 3 bytes out for 2 in).
func (b *budget) convert(helper string, fn func(string) string, s string) (string, error) {
	if len(s) > MaxValueLen {
		return "", valueTooLong(helper)
	}
	s = fn(s)
	return s, b.spend(len(s))
}

func (b *budget) date(layout string, v any) (string, error) {
	if len(layout) > MaxValueLen {
		return "", valueTooLong("date")
	}
	s, err := dateFunc(layout, v)
	if err != nil {
		return "", err
	}
	return s, b.spend(len(s))
}

func (b *budget) number(decimals int, v any) (string, error) {
	s, err := numberFunc(decimals, v)
	if err != nil {
		return "", err
	}
	return s, b.spend(len(s))
}

// printfSize estimates the length of fmt.Sprintf(format, args...) from
// above for the common verbs: the format's text, each verb's argument as
// %v prints it, widths and precisions (fmt caps them at 1e6). An argument
// printed by several verbs (%[1]s%[1]s) counts each time.
func printfSize(format string, args []any) int {
	n, argNum := 0, 0
	for i := 0; i < len(format); {
		if format[i] != '%' {
			n, i = n+1, i+1
			continue
		}
		i++
		for i < len(format) && strings.IndexByte("+-# 0", format[i]) >= 0 {
			i++
		}
		argNum, i = argIndex(format, i, argNum)
		var w int
		w, argNum, i = widthOrPrecision(format, i, args, argNum)
		n += w
		if i < len(format) && format[i] == '.' {
			argNum, i = argIndex(format, i+1, argNum)
			w, argNum, i = widthOrPrecision(format, i, args, argNum)
			n += w
		}
		argNum, i = argIndex(format, i, argNum)
		if i >= len(format) {
			return n + 16 // %!(NOVERB)
		}
		verb, size := utf8.DecodeRuneInString(format[i:])
		i += size
		switch {
		case verb == '%':
			n++
		case argNum < len(args):
			n += valueSize(args[argNum]) + 16
			argNum++
		default:
			n += 16 // %!v(MISSING)
		}
	}
	for ; argNum < len(args); argNum++ { // %!(EXTRA …)
		n += valueSize(args[argNum]) + 16
	}
	return n
}

// argIndex reads an explicit argument index [n] at i, if there is one.
func argIndex(format string, i, argNum int) (int, int) {
	if i >= len(format) || format[i] != '[' {
		return argNum, i
	}
	k := strings.IndexByte(format[i:], ']')
	if k < 0 {
		return argNum, i
	}
	idx, end := number(format, i+1)
	if end != i+k || idx < 1 {
		return argNum, i + k + 1
	}
	return idx - 1, i + k + 1
}

// widthOrPrecision reads a width or precision at i: digits, or * taking an
// int argument. It returns the bytes it may add.
func widthOrPrecision(format string, i int, args []any, argNum int) (w, nextArg, next int) {
	if i < len(format) && format[i] == '*' {
		if argNum < len(args) {
			if v := reflect.ValueOf(args[argNum]); v.CanInt() {
				w = int(min(max(v.Int(), -maxWidth), maxWidth))
				w = max(w, -w)
			}
		}
		return w, argNum + 1, i + 1
	}
	w, next = number(format, i)
	return w, argNum, next
}

// maxWidth is fmt's cap on widths and precisions (larger ones are bad).
const maxWidth = 1e6

// number reads decimal digits at i, capped just past maxWidth.
func number(s string, i int) (int, int) {
	n := 0
	for ; i < len(s) && '0' <= s[i] && s[i] <= '9'; i++ {
		n = min(n*10+int(s[i]-'0'), maxWidth+1)
	}
	return n, i
}

// argsSize estimates fmt.Sprint(args...) from above.
func argsSize(args []any) int {
	n := len(args)
	for _, a := range args {
		n += valueSize(a)
	}
	return n
}

// valueSize estimates the length of x as %v prints it, walking decoded JSON
// without formatting it; other types are formatted to measure them (they
// are the message data, bounded by what is stored).
func valueSize(x any) int {
	switch x := x.(type) {
	case nil, bool:
		return 8
	case string:
		return len(x)
	case int, int64, int32, uint, uint64, float64, float32:
		return 24
	case time.Time:
		return 64
	case []string:
		n := 2
		for _, s := range x {
			n += len(s) + 1
		}
		return n
	case []any:
		n := 2
		for _, e := range x {
			n += valueSize(e) + 1
		}
		return n
	case map[string]any:
		n := 5
		for k, e := range x {
			n += len(k) + valueSize(e) + 2
		}
		return n
	}
	if n, ok := stringLen(x); ok {
		return n
	}
	return len(fmt.Sprint(x))
}

// stringLen is the length of a string or []byte of any named type
// (template.HTML, template.URL …).
func stringLen(x any) (int, bool) {
	if s, ok := x.(string); ok {
		return len(s), true
	}
	v := reflect.ValueOf(x)
	switch {
	case v.Kind() == reflect.String:
		return v.Len(), true
	case v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.Uint8:
		return v.Len(), true
	}
	return 0, false
}
