package campaigns

import (
	"encoding/json"
	"errors"
	"math"
	"runtime"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/internal/errs"
)

func TestGoalEveryMetricWithZeroDenominators(t *testing.T) {
	t.Parallel()
	var m Metrics
	m.derive()
	now := time.Now()
	for _, name := range GoalMetrics() {
		// Every metric compiles and is 0 on an empty campaign: rates with zero
		// denominators are 0, never NaN.
		r := EvaluateGoal(0, Goal{Name: name, When: name + " == 0"}, m, now)
		require.Empty(t, r.Error, name)
		require.True(t, r.Met, name)
		r = EvaluateGoal(0, Goal{Name: name, When: name + " >= 1"}, m, now)
		require.False(t, r.Met, name)
		require.Equal(t, 0.0, r.Progress, name)
	}
	for name, v := range metricValues(m) {
		require.False(t, math.IsNaN(v), name)
	}
	b, err := json.Marshal(m)
	require.NoError(t, err, "a NaN would not marshal")
	require.NotContains(t, string(b), "NaN")
}

func TestGoalRatesFollowDefinitions(t *testing.T) {
	t.Parallel()
	m := Metrics{Sent: 100, Bounced: 20, Recipients: 100, RecipientsBounced: 20, UniqueOpens: 40, UniqueClicks: 10, Unsubscribes: 4, Converted: 8, Revenue: 160,
		TotalUniqueOpens: 50, TotalUniqueClicks: 20}
	m.derive()
	require.Equal(t, int64(80), m.Delivered)
	require.InDelta(t, 0.5, m.OpenRate, 1e-12)
	require.InDelta(t, 0.125, m.CTR, 1e-12)
	require.InDelta(t, 0.25, m.CTOR, 1e-12)
	require.InDelta(t, 0.05, m.UnsubscribeRate, 1e-12)
	require.InDelta(t, 0.2, m.BounceRate, 1e-12)
	require.InDelta(t, 0.1, m.ConversionRate, 1e-12)
	require.InDelta(t, 2.0, m.RevenuePerRecipient, 1e-12)
	require.InDelta(t, 0.625, m.TotalOpenRate, 1e-12)
	require.InDelta(t, 0.25, m.TotalCTR, 1e-12)
	require.InDelta(t, 0.4, m.TotalCTOR, 1e-12)
	r := EvaluateGoal(0, Goal{Name: "g", When: "open_rate >= 0.5 && revenue_per_recipient == 2 && total_ctr > ctr"}, m, time.Now())
	require.True(t, r.Met)
	require.Equal(t, "met", r.Status)
	require.Equal(t, 1.0, r.Progress)
}

func TestGoalProgress(t *testing.T) {
	t.Parallel()
	m := Metrics{Sent: 1000, Recipients: 1000, UniqueClicks: 20, Conversions: 30}
	m.derive()
	now := time.Now()
	cases := []struct {
		when string
		want float64
	}{
		{"ctr >= 0.05", 0.4},
		{"conversions >= 100", 0.3},
		{"ctr >= 0.05 && conversions >= 100", 0.3},
		{"ctr >= 0.05 and conversions > 40", 0.4},
		{"100 <= conversions", 0.3},
		{"conversions >= 10", 1},               // met
		{"conversions >= 10 || ctr > 1", 1},    // met, not simple
		{"conversions >= 100 || ctr > 1", 0},   // not simple, not met
		{"sent >= 500 && clicks >= 0.0001", 0}, // clicks is 0
		{"bounced <= 0", 1},
	}
	for _, c := range cases {
		r := EvaluateGoal(0, Goal{Name: "g", When: c.when}, m, now)
		require.Empty(t, r.Error, c.when)
		require.InDelta(t, c.want, r.Progress, 1e-12, c.when)
	}
	past := now.Add(-time.Hour)
	r := EvaluateGoal(0, Goal{Name: "g", When: "conversions >= 100", TargetDate: &past}, m, now)
	require.Equal(t, "missed", r.Status)
	future := now.Add(time.Hour)
	r = EvaluateGoal(0, Goal{Name: "g", When: "conversions >= 100", TargetDate: &future}, m, now)
	require.Equal(t, "pending", r.Status)
}

func TestGoalCompileErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		when string
		pos  int
	}{
		{"ctrr >= 0.05", 1},
		{"ctr >= 0.05 && conversion >= 1", 16},
		{"sent + 1", 0},                                     // not a bool
		{"ctr >= \"high\"", 5},                              // type mismatch
		{"ctr >= (0.05", 0},                                 // syntax
		{`len(repeat(repeat("x", 99999), 1000000)) > 0`, 5}, // past the evaluation budget
	}
	for i, c := range cases {
		err := checkGoals([]Goal{{Name: "ok", When: "sent >= 1"}, {Name: "bad", When: c.when}})
		var e *errs.Error
		require.True(t, errors.As(err, &e), c.when)
		require.Equal(t, errs.Invalid, e.Code)
		require.Equal(t, "goals[1].when", e.Field, c.when)
		require.NotEmpty(t, e.Message)
		if c.pos > 0 {
			require.Equal(t, c.pos, e.Position, "case %d %q: %s", i, c.when, e.Message)
		}
	}
	require.Error(t, checkGoals([]Goal{{Name: "a", When: "sent > 1"}, {Name: "a", When: "sent > 2"}}))
	require.Error(t, checkGoals([]Goal{{Name: "", When: "sent > 1"}}))
	require.NoError(t, checkGoals([]Goal{{Name: "a", When: "ctr >= 0.05 && conversions >= 100"}}))
}

// A goal whose cost depends on the metrics is stopped by its budget when
// the report evaluates it: the goal shows the error, the report is served.
func TestGoalBudgetAtEvaluation(t *testing.T) {
	t.Parallel()
	g := Goal{Name: "huge", When: `len(repeat("x", sent * 1000)) > 0`}
	require.NoError(t, checkGoals([]Goal{g}))
	r := EvaluateGoal(0, g, Metrics{Sent: 5000}, time.Now())
	require.False(t, r.Met)
	require.Contains(t, r.Error, "evaluation budget")
	r = EvaluateGoal(0, g, Metrics{Sent: 5}, time.Now())
	require.True(t, r.Met)
}

func FuzzCompileGoal(f *testing.F) {
	for _, s := range []string{"ctr >= 0.05", "conversions >= 100 && ctr > 0.1", "revenue_per_recipient / 0 > 1", "(", "سلام >= 1", "total_clicks",
		`len(repeat("x", sent * 1000000)) > 0`, `len(repeat(repeat("x", 99999), 1000000)) > 0`,
		`len(reduce(1..60, #acc + #acc, "x")) > 0`, `let r = 1..999; all(r, all(r, true))`} {
		f.Add(s)
	}
	m := Metrics{Sent: 10, Bounced: 1, UniqueOpens: 3, Conversions: 2}
	m.derive()
	f.Fuzz(func(t *testing.T, when string) {
		_, err := CompileGoal(0, Goal{Name: "g", When: when})
		if err != nil {
			var e *errs.Error
			require.True(t, errors.As(err, &e))
			require.Equal(t, "goals[0].when", e.Field)
			require.GreaterOrEqual(t, e.Position, 0)
			require.LessOrEqual(t, e.Position, utf8.RuneCountInString(when)+1)
			return
		}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		r := EvaluateGoal(0, Goal{Name: "g", When: when}, m, time.Now())
		runtime.ReadMemStats(&after)
		require.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(256<<20), "one evaluation's allocation")
		require.False(t, math.IsNaN(r.Progress))
		require.GreaterOrEqual(t, r.Progress, 0.0)
		require.LessOrEqual(t, r.Progress, 1.0)
	})
}
