package segments

import (
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/vm"

	"github.com/peykar/peykar/internal/errs"
	"github.com/peykar/peykar/internal/profile"
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
		`events.count("cart_abandoned", "7d") > 0 && events.count("purchase", "7d") == 0`,
		`events.last("purchase").value > 100`, `events.last("purchase") == nil`, `events.last("x')--")?.value > 1`,
		`opened("Nowruz sale'); DROP TABLE contacts; --")`, `clicked(12)`, `events.sum("purchase", "items", "2w") >= 3`,
		`events.count("purchase", "7x") > 0`, `events.count(contact.name, "1d") > 0`, `events == nil`,
		`days_since(events.last("purchase").at) > 30`, `events.last("p").attributes.sku == "A"`,
		`all(contact.tags, {events.count(#, "1d") > 0})`,
	} {
		f.Add(s)
	}
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	env := newSegmentEnv(now)
	env.Contact = contactEnv{Contact: profile.Contact{ID: 1, Email: "a@b.example", Attributes: map[string]any{"city": "Tehran", "a": 1.0, "x": nil},
		Tags: []string{"vip"}, Status: "active"}}
	f.Fuzz(func(t *testing.T, rule string) {
		c, err := CompileSegment(rule)
		if err != nil {
			var de *errs.Error
			if !errors.As(err, &de) || de.Code != errs.Invalid || de.Field != "rule" {
				t.Fatalf("%q: want an invalid rule error, got %v", rule, err)
			}
			return
		}
		env.bindEvents(c.plan.terms, make([]termVal, len(c.plan.terms)))
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
