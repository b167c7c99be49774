package campaigns

import (
	"errors"
	"runtime"
	"testing"
	"time"

	"github.com/expr-lang/expr/vm"
	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/internal/errs"
)

func TestCompileRulesReportsNameFieldAndPosition(t *testing.T) {
	t.Parallel()
	_, err := CompileRules([]Rule{
		{Name: "ok", On: "click", When: `event.link.url contains "pricing"`},
		{Name: "typo", On: "click", When: `event.type == "click" && evnt.value > 3`},
	})
	var e *errs.Error
	require.ErrorAs(t, err, &e)
	require.Equal(t, errs.Invalid, e.Code)
	require.Equal(t, "rules[1].when", e.Field)
	require.Contains(t, e.Message, `rule "typo"`)
	require.Equal(t, 26, e.Position, "1-based position of `evnt`")

	_, err = CompileRules([]Rule{{Name: "not bool", On: "open", When: `event.value + 1`}})
	require.ErrorAs(t, err, &e)
	require.Equal(t, "rules[0].when", e.Field)
}

func TestRuleMatchesAndRuntimeErrors(t *testing.T) {
	t.Parallel()
	rules, err := CompileRules([]Rule{
		{Name: "pricing", On: "click", When: `event.link.url contains "/pricing" && "vip" in contact.tags`},
		{Name: "score", On: "click", When: `contact.attributes.score > 3`},
		{Name: "always", On: "open"},
		{Name: "recent", On: "open", When: `days_since(delivery.sent_at) < 2`},
	})
	require.NoError(t, err)
	env := &RuleEnv{
		Event:    RuleEvent{Type: "click", Link: RuleLink{URL: "https://shop.example/pricing"}},
		Contact:  RuleContact{Tags: []string{"vip"}, Attributes: map[string]any{}},
		Delivery: RuleDelivery{SentAt: time.Now().Add(-time.Hour)},
	}
	var m vm.VM
	ok, err := rules[0].Matches(&m, env)
	require.NoError(t, err)
	require.True(t, ok)
	env.Contact.Tags = nil
	ok, err = rules[0].Matches(&m, env)
	require.NoError(t, err)
	require.False(t, ok)

	ok, err = rules[1].Matches(&m, env)
	require.NoError(t, err, "a missing attribute is no error")
	require.False(t, ok, "as in a segment, nil > 3 does not match")
	env.Contact.Attributes["score"] = 5
	ok, err = rules[1].Matches(&m, env)
	require.NoError(t, err)
	require.True(t, ok)

	ok, err = rules[2].Matches(&m, env)
	require.NoError(t, err)
	require.True(t, ok, "a rule without when always matches")
	ok, err = rules[3].Matches(&m, env)
	require.NoError(t, err)
	require.True(t, ok)
}

func FuzzCompileRules(f *testing.F) {
	for _, seed := range []string{
		`event.link.url contains "pricing"`,
		`event.type == "click" && contact.attributes.plan == "pro"`,
		`days_since(delivery.sent_at) > 3 || "vip" in contact.tags`,
		`event.value >= 100`,
		`contact.attributes.score > 3`,
		`len(contact.tags) > 0 and not (contact.email endsWith "@example.com")`,
		`(`, `1 +`, `event.`, `"unterminated`, `[1,2,3] | map(# * 2)`,
		`len(repeat(event.link.url, 1000000)) > 0`,
		`len(repeat(repeat("x", 99999), 1000000)) > 0`, `let r = 1..999; all(r, all(r, true))`,
		`len(reduce(1..60, #acc + #acc, "x")) > 0`, `none(1..99999, repeat("z", 99) matches "(a|aa)*b")`,
		`len(join(map(1..9999, repeat("x", 99)))) > 0`, `len(toJSON(map(1..999, map(1..999, #)))) > 0`,
	} {
		f.Add(seed)
	}
	env := &RuleEnv{
		Event:   RuleEvent{Type: "click", Link: RuleLink{URL: "https://x.example/a", Name: "A"}, Value: 3, At: time.Now()},
		Contact: RuleContact{Email: "a@b.example", Attributes: map[string]any{"plan": "pro", "n": 2.5, "list": []any{1, "x"}}, Tags: []string{"vip"}},
	}
	f.Fuzz(func(t *testing.T, when string) {
		rules, err := CompileRules([]Rule{{Name: "f", On: "click", When: when}})
		if err != nil {
			var e *errs.Error
			if !errorAs(err, &e) || e.Code != errs.Invalid || e.Field != "rules[0].when" {
				t.Fatalf("compile error is not a positioned invalid-field error: %v", err)
			}
			return
		}
		var m vm.VM
		// Must never panic, nor allocate past its budget; errors are fine.
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, _ = rules[0].Matches(&m, env)
		runtime.ReadMemStats(&after)
		if grew := after.TotalAlloc - before.TotalAlloc; grew > 256<<20 {
			t.Fatalf("%q: one evaluation allocated %d bytes", when, grew)
		}
	})
}

func errorAs(err error, target **errs.Error) bool {
	e, ok := err.(*errs.Error)
	if ok {
		*target = e
	}
	return ok
}

// A follow-up rule certain to pass its evaluation budget is refused when
// saved; one that passes it on some data fails at run time with the budget
// error, as any run-time error does.
func TestRuleBudget(t *testing.T) {
	t.Parallel()
	_, err := CompileRules([]Rule{{Name: "boom", On: "click", When: `len(repeat(repeat("x", 99999), 1000000)) > 0`}})
	var e *errs.Error
	require.True(t, errors.As(err, &e))
	require.Equal(t, "rules[0].when", e.Field)
	require.Equal(t, 5, e.Position)
	require.Contains(t, e.Message, `rule "boom": repeat builds a string of`)

	rs, err := CompileRules([]Rule{{Name: "grow", On: "click", When: `len(repeat(event.link.url, 1000000)) > 0`}})
	require.NoError(t, err)
	var m vm.VM
	_, err = rs[0].Matches(&m, &RuleEnv{Event: RuleEvent{Link: RuleLink{URL: "https://shop.example/pricing"}}})
	require.ErrorContains(t, err, "evaluation budget")
	ok, err := rs[0].Matches(&m, &RuleEnv{Event: RuleEvent{Link: RuleLink{URL: ""}}})
	require.NoError(t, err)
	require.False(t, ok)
}

func TestRuleNamesMustBeUnique(t *testing.T) {
	t.Parallel()
	c := Campaign{Name: "c", Steps: []Step{{Key: "main", TemplateID: 1}}, Rules: []Rule{
		{Name: "clicked", On: "click", Actions: []Action{{Type: "exit"}}},
		{Name: "opened", On: "open", Actions: []Action{{Type: "exit"}}},
		{Name: " clicked ", On: "open", Actions: []Action{{Type: "exit"}}},
	}}
	var e *errs.Error
	require.ErrorAs(t, c.normalize(), &e)
	require.Equal(t, errs.Invalid, e.Code)
	require.Equal(t, "rules[2].name", e.Field)
	require.Contains(t, e.Message, `"clicked"`)

	c.Rules[2].Name = "clicked again"
	require.NoError(t, c.normalize())
}

// TestDaysSinceReadsTheEnginesClock: a follow-up rule's days_since counts
// from the env's Now (the engine's injected clock), not the wall clock.
func TestDaysSinceReadsTheEnginesClock(t *testing.T) {
	t.Parallel()
	rs, err := CompileRules([]Rule{{Name: "old", On: "click", When: `days_since(delivery.sent_at) >= 3`}})
	require.NoError(t, err)
	sent := time.Date(2020, 1, 1, 12, 0, 0, 0, time.UTC)
	var m vm.VM
	for _, tc := range []struct {
		now  time.Time
		want bool
	}{
		{sent.Add(71 * time.Hour), false},
		{sent.Add(72 * time.Hour), true},
	} {
		env := &RuleEnv{Delivery: RuleDelivery{SentAt: sent}, Now: tc.now}
		ok, err := rs[0].Matches(&m, env)
		require.NoError(t, err)
		require.Equal(t, tc.want, ok, "now %s", tc.now)
	}
}
