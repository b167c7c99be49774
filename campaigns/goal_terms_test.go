package campaigns

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestGoalTermsShowValueAndTarget checks that a goal built from metric
// comparisons reports each comparison's current value and target, whatever
// side the metric is on, and that other goals report none.
func TestGoalTermsShowValueAndTarget(t *testing.T) {
	t.Parallel()
	m := Metrics{Sent: 1000, Recipients: 1000, UniqueOpens: 300, UniqueClicks: 41, Conversions: 120}
	m.derive()
	target := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	r := EvaluateGoal(0, Goal{Name: "g", When: "ctr >= 0.05 && 100 <= conversions", TargetDate: &target}, m, time.Now())
	require.False(t, r.Met)
	require.Equal(t, []GoalTerm{
		{Metric: "ctr", Op: ">=", Value: 0.041, Target: 0.05, Met: false},
		{Metric: "conversions", Op: ">=", Value: 120, Target: 100, Met: true},
	}, r.Terms)
	require.InDelta(t, 0.82, r.Progress, 1e-9)
	require.Equal(t, &target, r.TargetDate)

	r = EvaluateGoal(0, Goal{Name: "g", When: "bounce_rate < 0.02"}, m, time.Now())
	require.True(t, r.Met)
	require.Equal(t, []GoalTerm{{Metric: "bounce_rate", Op: "<", Value: 0, Target: 0.02, Met: true}}, r.Terms)

	for _, when := range []string{"ctr > ctor", "ctr >= 0.05 || conversions > 1", "conversions + opens > 3"} {
		r = EvaluateGoal(0, Goal{Name: "g", When: when}, m, time.Now())
		require.Empty(t, r.Error, when)
		require.Nil(t, r.Terms, when)
	}
}
