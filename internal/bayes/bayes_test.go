package bayes

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

// probBBeatsA is the exact P(pB > pA) for pA ~ Beta(aA, bA), pB ~ Beta(aB,
// bB) with integer aB (Evan Miller, "Formulas for Bayesian A/B Testing").
func probBBeatsA(aA, bA, aB, bB float64) float64 {
	lbeta := func(a, b float64) float64 {
		x, _ := math.Lgamma(a)
		y, _ := math.Lgamma(b)
		z, _ := math.Lgamma(a + b)
		return x + y - z
	}
	total := 0.0
	for i := 0.0; i < aB; i++ {
		total += math.Exp(lbeta(aA+i, bA+bB) - math.Log(bB+i) - lbeta(1+i, bB) - lbeta(aA, bA))
	}
	return total
}

func TestRatesProbabilityBestMatchesTheExactFormula(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ sA, nA, sB, nB int64 }{
		{40, 1000, 61, 1000}, {10, 100, 10, 100}, {3, 20, 8, 25}, {0, 50, 1, 50},
	} {
		got := Rates([]Rate{{tc.sA, tc.nA}, {tc.sB, tc.nB}})
		want := probBBeatsA(float64(1+tc.sA), float64(1+tc.nA-tc.sA), float64(1+tc.sB), float64(1+tc.nB-tc.sB))
		// 20,000 draws: the standard error is at most 0.0036.
		require.InDelta(t, want, got[1].PBest, 0.015, "%+v", tc)
		require.InDelta(t, 1, got[0].PBest+got[1].PBest, 1e-9)
		require.InDelta(t, float64(1+tc.sB)/float64(2+tc.nB), got[1].Mean, 1e-12)
	}
}

func TestRatesIntervalOfAUniformPosterior(t *testing.T) {
	t.Parallel()
	// No data: Beta(1, 1) is uniform, so its 95% interval is [0.025, 0.975].
	got := Rates([]Rate{{0, 0}, {0, 0}})
	require.InDelta(t, 0.025, got[0].Lo, 0.01)
	require.InDelta(t, 0.975, got[0].Hi, 0.01)
	require.InDelta(t, 0.5, got[0].PBest, 0.02)
}

func TestRatesIntervalNarrowsAroundTheRate(t *testing.T) {
	t.Parallel()
	// Beta(101, 901): mean 0.1008, sd ≈ 0.0095; the interval is ≈ ±1.96 sd.
	got := Rates([]Rate{{100, 1000}, {0, 0}})[0]
	require.InDelta(t, 0.0826, got.Lo, 0.003)
	require.InDelta(t, 0.1203, got.Hi, 0.003)
	require.Less(t, got.Lo, got.Mean)
	require.Greater(t, got.Hi, got.Mean)
}

func TestRatesAreDeterministic(t *testing.T) {
	t.Parallel()
	in := []Rate{{12, 300}, {19, 310}, {15, 290}}
	require.Equal(t, Rates(in), Rates(in))
	sum := 0.0
	for _, r := range Rates(in) {
		sum += r.PBest
	}
	require.InDelta(t, 1, sum, 1e-9)
}

func TestMeansNormalApproximation(t *testing.T) {
	t.Parallel()
	// A: 1,000 recipients, mean 2.0, sd 10; B: mean 3.0, sd 10.
	// P(B > A) = Φ(1 / sqrt(2·10²/1000)) = Φ(2.236) ≈ 0.9873.
	mk := func(n int64, mean, sd float64) Mean {
		nf := float64(n)
		sum := mean * nf
		return Mean{N: n, Sum: sum, SumSq: sd*sd*(nf-1) + sum*sum/nf}
	}
	got := Means([]Mean{mk(1000, 2, 10), mk(1000, 3, 10)})
	require.InDelta(t, 0.9873, got[1].PBest, 0.01)
	require.InDelta(t, 3, got[1].Mean, 1e-9)
	// 95% interval: 3 ± 1.96·10/sqrt(1000) = [2.38, 3.62].
	require.InDelta(t, 2.38, got[1].Lo, 0.03)
	require.InDelta(t, 3.62, got[1].Hi, 0.03)
}
