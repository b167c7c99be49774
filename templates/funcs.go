package templates

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// funcs are the personalisation helpers every template may call, with
// text/template's string-making built-ins replaced by bounded ones (see
// helperFuncs). attr and unsubscribe_url are placeholders: Compile rewrites calls to them into
// calls that pass the render state (see rewrite.go), because a FuncMap is
// bound once per template while their answers depend on the recipient.
func funcs() map[string]any {
	m := stateFuncs()
	for k, f := range helperFuncs() {
		m[k] = f
	}
	for k, f := range map[string]any{
		"default":         defaultFunc,
		"trim":            strings.TrimSpace,
		"attr":            placeholder("attr"),
		"unsubscribe_url": placeholder("unsubscribe_url"),
	} {
		m[k] = f
	}
	return m
}

func placeholder(name string) func(...any) (string, error) {
	return func(...any) (string, error) {
		return "", fmt.Errorf("%s was not bound to the recipient (internal error)", name)
	}
}

// defaultFunc returns def when v is empty: nil, an empty or blank string, or
// an empty slice or map. Numbers and booleans are never empty (0 and false
// are values). Use it in a pipeline: {{ .Contact.Name | default "friend" }}.
func defaultFunc(def, v any) any {
	if isEmpty(v) {
		return def
	}
	return v
}

func isEmpty(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return strings.TrimSpace(x) == ""
	case []any:
		return len(x) == 0
	case map[string]any:
		return len(x) == 0
	case []string:
		return len(x) == 0
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Slice, reflect.Map, reflect.Array:
		return rv.Len() == 0
	case reflect.Pointer, reflect.Interface:
		return rv.IsNil()
	}
	return false
}

// dateFunc formats a time with a Go layout: {{ date "2 Jan 2006" .Contact.CreatedAt }}.
// It accepts time.Time and strings in RFC 3339 or 2006-01-02 form (how dates
// arrive in attributes); the zero time and nil render as "".
func dateFunc(layout string, v any) (string, error) {
	var t time.Time
	switch x := v.(type) {
	case nil:
		return "", nil
	case time.Time:
		t = x
	case *time.Time:
		if x == nil {
			return "", nil
		}
		t = *x
	case string:
		if strings.TrimSpace(x) == "" {
			return "", nil
		}
		var err error
		if t, err = time.Parse(time.RFC3339, x); err != nil {
			if t, err = time.Parse(time.DateOnly, x); err != nil {
				return "", fmt.Errorf("date: %q is not a date (want RFC 3339 or YYYY-MM-DD)", x)
			}
		}
	default:
		return "", fmt.Errorf("date: cannot format a %T as a date", v)
	}
	if t.IsZero() {
		return "", nil
	}
	return t.Format(layout), nil
}

// numberFunc formats a number with the given decimals and thousands
// separators: {{ number 2 .Contact.Attributes.balance }} → 1,234.50. It
// accepts Go numbers, json.Number and numeric strings.
func numberFunc(decimals int, v any) (string, error) {
	if decimals < 0 || decimals > 10 {
		return "", errors.New("number: decimals must be between 0 and 10")
	}
	var f float64
	switch x := v.(type) {
	case float64:
		f = x
	case float32:
		f = float64(x)
	case int:
		f = float64(x)
	case int64:
		f = float64(x)
	case int32:
		f = float64(x)
	case uint:
		f = float64(x)
	case uint64:
		f = float64(x)
	case json.Number:
		var err error
		if f, err = x.Float64(); err != nil {
			return "", fmt.Errorf("number: %q is not a number", string(x))
		}
	case string:
		var err error
		if f, err = strconv.ParseFloat(strings.TrimSpace(x), 64); err != nil {
			return "", fmt.Errorf("number: %q is not a number", x)
		}
	default:
		return "", fmt.Errorf("number: cannot format a %T as a number", v)
	}
	return groupThousands(strconv.FormatFloat(f, 'f', decimals, 64)), nil
}

func groupThousands(s string) string {
	sign := ""
	if strings.HasPrefix(s, "-") {
		sign, s = "-", s[1:]
	}
	intPart, frac := s, ""
	if i := strings.IndexByte(s, '.'); i >= 0 {
		intPart, frac = s[:i], s[i:]
	}
	if len(intPart) <= 3 {
		return sign + s
	}
	var b strings.Builder
	b.WriteString(sign)
	first := len(intPart) % 3
	if first > 0 {
		b.WriteString(intPart[:first])
	}
	for i := first; i < len(intPart); i += 3 {
		if b.Len() > len(sign) {
			b.WriteByte(',')
		}
		b.WriteString(intPart[i : i+3])
	}
	b.WriteString(frac)
	return b.String()
}
