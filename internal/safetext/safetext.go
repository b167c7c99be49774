// Package safetext decides which user text Peykar can keep and send.
// PostgreSQL's text and jsonb types cannot hold a NUL byte (U+0000): a
// value carrying one fails the statement that stores it, and with it every
// good row of the same batch. A line break or other control character in a
// value that becomes a mail header (a display name) makes every message
// carrying it fail. The checks here refuse such input where it enters, with
// an errs.Invalid naming the field, so it never reaches the database or the
// mailer.
package safetext

import (
	"fmt"
	"strings"
	"unicode"

	"github.com/peykar/peykar/internal/errs"
)

// NULMessage is the message of an error about a value with a NUL byte.
const NULMessage = `contains a NUL byte (\u0000), which cannot be stored; remove it`

// NULKeyMessage is the message of an error about a key (an attribute or
// parameter name) with a NUL byte.
const NULKeyMessage = `has a name containing a NUL byte (\u0000), which cannot be stored; remove it`

// HasNUL reports whether s contains a NUL byte.
func HasNUL(s string) bool { return strings.IndexByte(s, 0) >= 0 }

// ShowKey writes a key for an error's field: its NUL bytes as \u0000.
func ShowKey(k string) string { return strings.ReplaceAll(k, "\x00", `\u0000`) }

// Text checks text that is stored but never put in a mail header (it may
// span lines): no NUL byte. The error is an errs.Invalid about field.
func Text(field, s string) error {
	if HasNUL(s) {
		return errs.Field(field, NULMessage)
	}
	return nil
}

// Line checks a one-line value such as a sender's or a contact's display
// name: no NUL byte, no line break, tab or other control character. The
// error is an errs.Invalid about field that names the character found.
func Line(field, s string) error {
	if err := Text(field, s); err != nil {
		return err
	}
	if r, ok := ControlChar(s); ok {
		return errs.Field(field, "must be one line without control characters; it contains %s", Describe(r))
	}
	return nil
}

// ControlChar returns the first control character in s (C0, DEL or C1,
// which includes CR, LF and tab).
func ControlChar(s string) (rune, bool) {
	for _, r := range s {
		if unicode.IsControl(r) {
			return r, true
		}
	}
	return 0, false
}

// Describe names a control character for a user: "a line feed (U+000A)".
func Describe(r rune) string {
	name := map[rune]string{0: "a NUL byte", '\n': "a line feed", '\r': "a carriage return", '\t': "a tab"}[r]
	if name == "" {
		name = "a control character"
	}
	return fmt.Sprintf("%s (%U)", name, r)
}
