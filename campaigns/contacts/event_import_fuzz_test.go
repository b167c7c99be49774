package contacts

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/peykar/peykar/internal/errs"
)

// FuzzEventParser checks that the events file parser never panics,
// accounts for every line in order, and only lets through events POST
// /events would take, with a time.
func FuzzEventParser(f *testing.F) {
	f.Add([]byte(eventsCSV))
	f.Add([]byte("contact_id,type,occurred_at\n1,signup,2025-01-01\n0,signup,2025-01-01\n"))
	f.Add([]byte("\ufeffEmail;Type;Occurred_At;attr.x\na@b.example;x;۱۴۰۴/۰۱/۰۱;1\n"))
	f.Add([]byte("email,type,occurred_at,value\na@b.example,purchase,2025-01-01T00:00:00Z,NaN\n"))
	f.Add([]byte("email,type,occurred_at,attr.\n"))
	f.Add([]byte("email,type,occurred_at,idempotency_key\na@b.example,x,2025-01-01,\"k\x01\"\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := newEventParser(bytes.NewReader(data), "")
		if err != nil {
			if !errs.Is(err, errs.Invalid) {
				t.Fatalf("header: want errs.Invalid, got %v", err)
			}
			return
		}
		last := 1
		for range 100000 {
			l, rej, err := p.next()
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				t.Fatalf("stream error on an in-memory reader: %v", err)
			}
			line := l.line
			if rej != nil {
				line = rej.Line
				if rej.Reason == "" {
					t.Fatalf("line %d rejected without a reason", line)
				}
			} else {
				if l.in.OccurredAt == nil {
					t.Fatalf("line %d accepted without a time", line)
				}
				in := l.in
				if err := in.validate(); err != nil {
					t.Fatalf("line %d accepted but POST /events refuses it: %v", line, err)
				}
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
