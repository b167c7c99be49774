package holdout

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

func binomial(r *rand.Rand, n int64, p float64) int64 {
	var x int64
	for range n {
		if r.Float64() < p {
			x++
		}
	}
	return x
}

// Over many simulated campaigns the 95% intervals cover the true lift and
// the true difference about 95% of the time (a fixed seed: the test is
// deterministic). A broken formula — a wrong z, a missing term — falls far
// outside the band.
func TestIntervalsCoverTheTruth(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(21, 35))
	for _, c := range []struct {
		nT, nH int64
		pT, pH float64
	}{
		{1800, 200, 0.20, 0.10},
		{9000, 1000, 0.05, 0.04},
		{500, 500, 0.30, 0.30},
	} {
		const runs = 1000
		liftIn, diffIn := 0, 0
		trueLift, trueDiff := c.pT/c.pH-1, c.pT-c.pH
		for range runs {
			xT, xH := binomial(r, c.nT, c.pT), binomial(r, c.nH, c.pH)
			lo, hi, ok := relativeLift(xT, c.nT, xH, c.nH)
			require.True(t, ok)
			if lo <= trueLift && trueLift <= hi {
				liftIn++
			}
			dlo, dhi := newcombe(xT, c.nT, xH, c.nH)
			if dlo <= trueDiff && trueDiff <= dhi {
				diffIn++
			}
		}
		require.InDelta(t, 0.95, float64(liftIn)/runs, 0.025, "lift coverage %+v", c)
		require.InDelta(t, 0.95, float64(diffIn)/runs, 0.025, "difference coverage %+v", c)
	}
}

func TestIntervalsAtTheEdges(t *testing.T) {
	t.Parallel()
	lo, hi := wilson(0, 10)
	require.Equal(t, 0.0, lo)
	require.Greater(t, hi, 0.2)
	lo, hi, ok := relativeLift(5, 100, 0, 100)
	require.True(t, ok, "no converter in the holdout still gives a finite interval")
	require.Less(t, lo, hi)
	_, _, ok = relativeLift(5, 100, 0, 0)
	require.False(t, ok, "an empty holdout has no interval")
	dlo, dhi := newcombe(0, 50, 0, 50)
	require.Less(t, dlo, 0.0)
	require.Greater(t, dhi, 0.0)
}

func TestDerive(t *testing.T) {
	t.Parallel()
	r := Report{Size: 200, Conversions: 20, Revenue: 200, TreatedSize: 1800, TreatedConversions: 360, TreatedRevenue: 5400}
	r.derive()
	require.InDelta(t, 0.1, r.Rate, 1e-12)
	require.InDelta(t, 0.2, r.TreatedRate, 1e-12)
	require.NotNil(t, r.Lift)
	require.InDelta(t, 1.0, *r.Lift, 1e-12)
	require.InDelta(t, 0.1, r.Difference, 1e-12)
	require.InDelta(t, 180, r.IncrementalConversions, 1e-9)
	require.InDelta(t, (3.0-1.0)*1800, r.IncrementalRevenue, 1e-9)
	require.Len(t, r.LiftInterval, 2)
	require.Less(t, r.LiftInterval[0], 1.0)
	require.Greater(t, r.LiftInterval[1], 1.0)
	require.True(t, r.EnoughData)
	require.True(t, r.Significant)

	small := Report{Size: 20, Conversions: 2, TreatedSize: 180, TreatedConversions: 36}
	small.derive()
	require.False(t, small.EnoughData, "two converters are too few for a conclusion")
	require.False(t, small.Significant)

	none := Report{Size: 100, TreatedSize: 900, TreatedConversions: 30}
	none.derive()
	require.Nil(t, none.Lift, "no converter in the holdout: the relative lift is undefined")
	require.Len(t, none.LiftInterval, 2)
}
