package contacts

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/peykar/peykar/internal/errs"
	"github.com/peykar/peykar/internal/safetext"
)

// FuzzParseCSV checks that the import parser never panics, accounts for
// every line, and only lets through rows with a normalised address.
func FuzzParseCSV(f *testing.F) {
	f.Add([]byte(mixedCSV))
	f.Add([]byte("email\na@b.example\n"))
	f.Add([]byte("\ufeffEmail;x\n"))
	f.Add([]byte("email,name,tags\n\"a@b.example\",\"x\"\"y\",a|b;c\n"))
	f.Add([]byte("email,name\n\"unterminated,x\na@b.example,y\n"))
	f.Add([]byte("email,city\r\na@b.example,\xff\r\n"))
	f.Add([]byte("name\nx\n"))
	f.Add([]byte("email,name,city\na@b.example,Sara\x00,Tehran\nc@d.example,Ali,Te\x00hran\ne@f.example,Ok,Shiraz\n"))
	f.Add([]byte("email,name,tags,consent_source\na@b.example,\"Sara\r\nBcc: x@y.example\",vip,form\nc@d.example,Ali,\"a\nb\",x\x00\n"))
	f.Add([]byte("email,ci\x00ty\na@b.example,x\n"))
	f.Add([]byte("email,name\r\na@b.example,\"tab\there\"\r\nc@d.example,\"\x7fdel\"\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := newCSVParser(bytes.NewReader(data), ImportOptions{})
		if err != nil {
			if !errs.Is(err, errs.Invalid) {
				t.Fatalf("header: want errs.Invalid, got %v", err)
			}
			return
		}
		last := 1
		for range 100000 {
			row, rej, err := p.next()
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				t.Fatalf("stream error on an in-memory reader: %v", err)
			}
			line := row.line
			if rej != nil {
				line = rej.Line
				if rej.Reason == "" {
					t.Fatalf("line %d rejected without a reason", line)
				}
			} else {
				norm, nerr := NormalizeEmail(row.email)
				if nerr != nil || norm != row.email || row.key != strings.ToLower(row.email) {
					t.Fatalf("line %d: accepted address %q is not normal (%v)", line, row.email, nerr)
				}
				checkStorable(t, row)
			}
			if line <= last && line != 0 {
				t.Fatalf("line numbers go backwards: %d after %d", line, last)
			}
			if line > 0 {
				last = line
			}
		}
		t.Fatalf("parser does not end")
	})
}

// checkStorable fails when an accepted row holds what PostgreSQL cannot
// store (a NUL byte) or a one-line field (name, tags, consent) holds a line
// break or other control character.
func checkStorable(t *testing.T, row importRow) {
	t.Helper()
	if err := safetext.Value("attributes", row.attrs); err != nil {
		t.Fatalf("line %d: accepted attributes hold a NUL: %v", row.line, err)
	}
	for _, s := range append([]string{row.email, row.name, row.consent}, row.tags...) {
		if _, bad := safetext.ControlChar(s); bad {
			t.Fatalf("line %d: accepted one-line value %q holds a control character", row.line, s)
		}
	}
}
