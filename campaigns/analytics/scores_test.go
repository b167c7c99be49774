package analytics

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSegmentGrid(t *testing.T) {
	t.Parallel()
	cases := map[[2]int]string{
		{5, 5}: SegmentChampions, {5, 4}: SegmentChampions, {4, 5}: SegmentLoyal, {3, 4}: SegmentLoyal,
		{5, 2}: SegmentPotentialLoyalists, {4, 3}: SegmentPotentialLoyalists, {5, 1}: SegmentNew,
		{4, 1}: SegmentPromising, {3, 3}: SegmentNeedAttention, {3, 1}: SegmentAboutToSleep,
		{3, 2}: SegmentAboutToSleep, {2, 3}: SegmentAtRisk, {1, 4}: SegmentAtRisk, {1, 5}: SegmentCannotLose,
		{2, 5}: SegmentCannotLose, {2, 2}: SegmentHibernating, {1, 2}: SegmentHibernating,
		{2, 1}: SegmentHibernating, {1, 1}: SegmentLost, {0, 3}: "", {3, 6}: "",
	}
	for in, want := range cases {
		require.Equal(t, want, Segment(in[0], in[1]), "R=%d FM=%d", in[0], in[1])
	}
	seen := map[string]bool{}
	for _, s := range segmentGrid() {
		seen[s] = true
	}
	require.Len(t, seen, len(Segments), "every named segment appears in the grid")
	require.Equal(t, 4, FMScore(3, 4))
	require.Equal(t, 3, FMScore(3, 3))
}

func TestRFMQuintilesAndSegments(t *testing.T) {
	t.Parallel()
	f := setup(t)
	// Five buyers with distinct recency, frequency and spend: the best in
	// everything is 5/5/5, the worst 1/1/1.
	ids := make([]int64, 5)
	for i := range ids {
		ids[i] = f.contact()
		n := i + 1 // purchases
		ago := make([]float64, n)
		for j := range ago {
			ago[j] = float64(10*(5-i) + 7*j) // latest purchase 50, 40, …, 10 days ago
		}
		f.purchases(ids[i], float64(20*n), ago...)
	}
	// A big spender who has not bought for long: R1, F low, M high.
	whale := f.contact()
	f.purchases(whale, 5000, 300)
	none := f.contact()

	n, err := ScoreContacts(f.ctx, f.pool, Config{Now: now})
	require.NoError(t, err)
	require.EqualValues(t, 7, n)

	// Six buyers: rank r → 1 + floor(5(r−1)/6).
	best := f.score(ids[4])
	require.Equal(t, [3]int{5, 5, 4}, [3]int{best.R, best.F, best.M}, "the whale takes the top monetary spot")
	require.Equal(t, SegmentChampions, best.Segment)
	require.Equal(t, 5, best.Purchases)
	require.InDelta(t, 500, best.Monetary, 1e-9)

	worst := f.score(ids[0])
	require.Equal(t, [3]int{1, 1, 1}, [3]int{worst.R, worst.F, worst.M}, "rank 2 of 6: 1 + floor(5·1/6) = 1")
	require.Equal(t, SegmentLost, worst.Segment)
	second := f.score(ids[1])
	require.Equal(t, [3]int{2, 2, 1}, [3]int{second.R, second.F, second.M}, "recency and frequency rank 3 of 6: 1 + floor(5·2/6) = 2; spend rank 2")
	require.Equal(t, SegmentHibernating, second.Segment)

	w := f.score(whale)
	// The whale ties with ids[0] on frequency (one purchase each): equal
	// values share the lower quintile.
	require.Equal(t, [3]int{1, 1, 5}, [3]int{w.R, w.F, w.M})
	require.Equal(t, SegmentAtRisk, w.Segment, "R1, FM=(1+5+1)/2=3")

	z := f.score(none)
	require.Equal(t, score{Segment: "", LastActivityDays: z.LastActivityDays, Churn: z.Churn}, z)
	require.InDelta(t, 365, z.LastActivityDays, 1e-6, "without purchases or engagement the clock starts at creation")

	// Recomputing with nothing changed writes nothing.
	n, err = ScoreContacts(f.ctx, f.pool, Config{Now: now})
	require.NoError(t, err)
	require.Zero(t, n)
}

func TestValueFormula(t *testing.T) {
	t.Parallel()
	f := setup(t)
	id := f.contact()
	f.purchases(id, 50, 100, 60, 20) // 3 purchases, AOV 50, first 100 days ago
	_, err := ScoreContacts(f.ctx, f.pool, Config{Now: now})
	require.NoError(t, err)
	s := f.score(id)
	// The only buyer: τ_pop = its own mean gap (40 days); shrunk τ = (2·40 + 2·40)/4 = 40.
	risk := 1 - math.Exp(-20.0/40)
	require.InDelta(t, risk, s.Churn, 1e-4)
	want := 150 + 50*3/100.0*365*(1-risk)
	require.InDelta(t, want, s.Value, 0.02)
}

func TestChurnRiskOrdering(t *testing.T) {
	t.Parallel()
	f := setup(t)
	weeklyRecent := f.contact()
	f.purchases(weeklyRecent, 10, 2, 9, 16, 23, 30, 37, 44, 51)
	weeklyLapsed := f.contact()
	f.purchases(weeklyLapsed, 10, 30, 37, 44, 51, 58, 65, 72, 79)
	monthlyLapsed := f.contact()
	f.purchases(monthlyLapsed, 10, 30, 60, 90, 120, 150, 180, 210, 240)
	oneOld := f.contact()
	f.purchases(oneOld, 10, 200)
	oneNew := f.contact()
	f.purchases(oneNew, 10, 1)
	engaged := f.contact()
	// Raw on purpose: a planted last open, with no delivery behind it.
	_, err := f.pool.Exec(f.ctx, `INSERT INTO contact_stats (contact_id, last_open_at) VALUES ($1, $2)`, engaged, now.Add(-days(3)))
	require.NoError(t, err)
	silent := f.contact()

	_, err = ScoreContacts(f.ctx, f.pool, Config{Now: now})
	require.NoError(t, err)
	risk := func(id int64) float64 { return f.score(id).Churn }
	require.Less(t, risk(weeklyRecent), risk(monthlyLapsed))
	require.Less(t, risk(monthlyLapsed), risk(weeklyLapsed), "30 days is one usual interval for a monthly buyer, four for a weekly one")
	require.Less(t, risk(oneNew), risk(oneOld))
	require.Less(t, risk(engaged), risk(silent))
	for _, id := range []int64{weeklyRecent, weeklyLapsed, monthlyLapsed, oneOld, oneNew, engaged, silent} {
		r := risk(id)
		require.True(t, r >= 0 && r <= 1, "risk %v in [0,1]", r)
	}
	// Exact: weekly recent, 7 gaps of 7 days, τ_pop = mean of (7, 7, 30) over the three regular buyers.
	tauPop := (7.0 + 7 + 30) / 3
	tau := (7*7 + 2*tauPop) / 9
	require.InDelta(t, 1-math.Exp(-2/tau), risk(weeklyRecent), 1e-4)
	// Contacts that never bought use the default τ (30 days) from their last engagement.
	require.InDelta(t, 1-math.Exp(-3.0/30), risk(engaged), 1e-4)
}
