// Package errs holds Peykar's domain errors: an error carries a code
// (invalid, not_found, conflict, …) that the one HTTP error handler maps to a
// status, and a message that is safe to show to the user. Domain packages
// return these; none of them imports Echo's error types.
package errs

import (
	"errors"
	"fmt"
)

// Code classifies a domain error.
type Code string

// The codes of the API's error shape.
const (
	Invalid      Code = "invalid"      // 422 (400 for malformed requests)
	NotFound     Code = "not_found"    // 404
	Conflict     Code = "conflict"     // 409
	Forbidden    Code = "forbidden"    // 403
	Unauthorized Code = "unauthorized" // 401
	Unavailable  Code = "unavailable"  // 503
	Internal     Code = "internal"     // 500
)

// Error is a domain error. Message is shown to users; Err (wrapped) is not.
type Error struct {
	Code     Code
	Message  string
	Field    string // the offending input field, when there is one
	Position int    // 1-based position inside Field (expr rules, templates), 0 when unknown
	Line     int    // 1-based line inside Field, 0 when unknown
	Column   int    // 1-based column inside Field, 0 when unknown
	// Details are extra JSON-encodable facts for the client, e.g. the id of
	// the existing contact on a conflict.
	Details map[string]any
	// Errors, when validation collected more than one mistake, lists them
	// all, this one (the first) included, so a form can show each next to
	// its field.
	Errors []*Error
	Err    error
}

func (e *Error) Error() string {
	s := string(e.Code) + ": " + e.Message
	if e.Field != "" {
		s = string(e.Code) + ": " + e.Field + ": " + e.Message
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// New returns an error with code and a formatted user-facing message.
func New(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Field returns an Invalid error about one input field.
func Field(field, format string, args ...any) *Error {
	return &Error{Code: Invalid, Field: field, Message: fmt.Sprintf(format, args...)}
}

// CodeOf returns the code of the first *Error in err's chain, or Internal.
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Internal
}

// Is reports whether err carries code.
func Is(err error, code Code) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == code
}

// All returns every validation error err carries: its Errors when it
// collected several, else the error itself; nil when err is no *Error.
func All(err error) []*Error {
	var e *Error
	if !errors.As(err, &e) {
		return nil
	}
	if len(e.Errors) > 0 {
		return e.Errors
	}
	return []*Error{e}
}

// Collect returns nil for no errors, the error itself for one, and for
// several the first with Errors listing them all.
func Collect(list []*Error) error {
	switch len(list) {
	case 0:
		return nil
	case 1:
		return list[0]
	}
	first := *list[0]
	first.Errors = list
	return &first
}
