package safetext

import (
	"fmt"
	"slices"

	"github.com/peykar/peykar/internal/errs"
)

// Value checks a decoded JSON value (maps, slices, strings and scalars, as
// encoding/json makes them) for NUL bytes in its strings and keys. The
// error is an errs.Invalid whose field is the path of the first offending
// string below field, such as attributes.city or attributes.list[2]; map
// keys are visited in sorted order so the same input names the same path.
func Value(field string, v any) error {
	if !valueHasNUL(v) {
		return nil
	}
	return valueNUL(field, v)
}

// valueHasNUL is the fast check: any NUL at all, in any order.
func valueHasNUL(v any) bool {
	switch x := v.(type) {
	case string:
		return HasNUL(x)
	case map[string]any:
		for k, e := range x {
			if HasNUL(k) || valueHasNUL(e) {
				return true
			}
		}
	case []any:
		for _, e := range x {
			if valueHasNUL(e) {
				return true
			}
		}
	case []string:
		for _, e := range x {
			if HasNUL(e) {
				return true
			}
		}
	}
	return false
}

// valueNUL finds the first offending path, deterministically.
func valueNUL(field string, v any) error {
	switch x := v.(type) {
	case string:
		if HasNUL(x) {
			return errs.Field(field, NULMessage)
		}
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			if HasNUL(k) {
				return errs.Field(join(field, ShowKey(k)), NULKeyMessage)
			}
			if err := valueNUL(join(field, k), x[k]); err != nil {
				return err
			}
		}
	case []any:
		for i, e := range x {
			if err := valueNUL(fmt.Sprintf("%s[%d]", field, i), e); err != nil {
				return err
			}
		}
	case []string:
		for i, e := range x {
			if HasNUL(e) {
				return errs.Field(fmt.Sprintf("%s[%d]", field, i), NULMessage)
			}
		}
	}
	return nil
}

// join appends an object key to a path.
func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
