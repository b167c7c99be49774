package contacts

import (
	"bytes"
	"errors"
	"io"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/vm"

	"github.com/peykar/peykar/internal/errs"
	"github.com/peykar/peykar/internal/safetext"
)

// FuzzCompileSegment checks that any rule either compiles or gives a
// positioned errs.Invalid, never panics, and that a translated rule carries
// the rule's text only as parameters, never inside the SQL.
func FuzzCompileSegment(f *testing.F) {
	for _, s := range []string{
		``, `true`, `contact.attributes.city == "Tehran" && contact.attributes.plan == "pro"`,
		`stats.opens > 3 || has_tag("vip")`, `days_since(stats.last_open_at) > 30`,
		`contact.email endsWith "@gmail.com" and not (contact.status in ["bounced"])`,
		`contact.attributes["x'); DROP TABLE contacts; --"] == "'; DELETE FROM contacts; --"`,
		`contact.name matches "^(a|b)+$"`, `contact.attributes.age >= 18.5`, `len(contact.tags) > 2`,
		`"vip" in contact.tags`, `contact.attributes.a in ["x", 1, nil, true]`, `1 +`, `contact.nope`,
		`all(1..1000000, {# > 0})`, `contact.attributes.x contains "a"`, `stats.revenue < -1`,
		`len(repeat(repeat("x", 99999), 1000000)) > 0`, `len(repeat(contact.email, 1000000)) > 0`,
		`len(replace(repeat("x", 99999), "x", repeat("y", 99999))) > 0`, `days_since(contact.created_at) == 10000000`,
		`let a = repeat(contact.name, 999); let b = a + a; let c = b + b; len(c + c + c) > 0`,
		`len(join(map(contact.tags, repeat(#, 99999)))) > 0`,
	} {
		f.Add(s)
	}
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	env := newRuleEnv(now)
	env.Contact = contactEnv{ID: 1, Email: "a@b.example", Attributes: map[string]any{"city": "Tehran", "a": 1.0, "x": nil},
		Tags: []string{"vip"}, Status: "active"}
	f.Fuzz(func(t *testing.T, rule string) {
		c, err := CompileRule(rule)
		if err != nil {
			var de *errs.Error
			if !errors.As(err, &de) || de.Code != errs.Invalid || de.Field != "rule" {
				t.Fatalf("%q: want an invalid rule error, got %v", rule, err)
			}
			return
		}
		var m vm.VM
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		if _, err := c.eval(&m, env, 1); err != nil && !errs.Is(err, errs.Invalid) { // must not panic
			t.Fatalf("%q: evaluation error %v", rule, err)
		}
		runtime.ReadMemStats(&after)
		if grew := after.TotalAlloc - before.TotalAlloc; grew > 64<<20 {
			t.Fatalf("%q: one evaluation allocated %d bytes", rule, grew)
		}
		if c.tree == nil {
			return
		}
		w, ok := translate(c.tree, now, 3)
		if !ok {
			t.Fatalf("%q: translatable at compile time but not now", rule)
		}
		for _, s := range stringsIn(c.tree) {
			if len(s) >= 4 && strings.ContainsAny(s, "'\";()-") && strings.Contains(w.sql, s) {
				t.Fatalf("%q: rule text %q appears in the SQL %s", rule, s, w.sql)
			}
		}
		if strings.Count(w.sql, "'")%2 != 0 {
			t.Fatalf("%q: unbalanced quotes in %s", rule, w.sql)
		}
	})
}

// stringsIn returns the string constants and property names of a tree.
func stringsIn(n ast.Node) []string {
	v := &stringCollector{}
	ast.Walk(&n, v)
	return v.out
}

type stringCollector struct{ out []string }

func (v *stringCollector) Visit(n *ast.Node) {
	if s, ok := (*n).(*ast.StringNode); ok {
		v.out = append(v.out, s.Value)
	}
}

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
		p, err := newCSVParser(bytes.NewReader(data))
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
