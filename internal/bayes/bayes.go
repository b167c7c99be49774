// Package bayes holds the statistics of A/B tests: Bayesian posteriors of
// each variant's metric, a 95% credible interval, and the probability that
// each variant is the best, estimated by Monte Carlo with a fixed seed so
// the same counts always give the same answer.
//
// Rates (open rate, click rate, conversion rate) use a Beta(1+successes,
// 1+failures) posterior: a uniform prior updated by the counts. Revenue
// per recipient uses a normal approximation of the posterior of the mean,
// Normal(sample mean, sample variance / n). A posterior is valid whenever
// it is read, so a report may be watched while the test runs: there is no
// fixed sample size to reach and no "peeking" penalty as with repeated
// significance tests; what changes as data come in is how sure it is.
package bayes

import (
	"math"
	"math/rand/v2"
	"sort"
)

// Draws is how many Monte Carlo draws each posterior gets.
const Draws = 20000

// Seed is the fixed seed of the draws: equal counts give equal answers.
const Seed = 21

// Level is the credible interval's probability.
const Level = 0.95

// Rate is a variant's count of successes (people who opened, clicked or
// converted) among trials (people delivered).
type Rate struct {
	Successes int64
	Trials    int64
}

// Mean is a variant's per-recipient values: N recipients whose values sum
// to Sum, and their squares to SumSq.
type Mean struct {
	N     int64
	Sum   float64
	SumSq float64
}

// Result is a variant's posterior: its mean, the 95% credible interval
// [Lo, Hi], and the probability that it is the best of the variants.
type Result struct {
	Mean  float64
	Lo    float64
	Hi    float64
	PBest float64
}

// Rates returns each rate's Beta(1+successes, 1+failures) posterior.
func Rates(rates []Rate) []Result {
	rng := rand.New(rand.NewPCG(Seed, Seed))
	samples := make([][]float64, len(rates))
	means := make([]float64, len(rates))
	for i, r := range rates {
		fails := max(r.Trials-r.Successes, 0)
		a, b := 1+float64(max(r.Successes, 0)), 1+float64(fails)
		means[i] = a / (a + b)
		s := make([]float64, Draws)
		for k := range s {
			x, y := gamma(rng, a), gamma(rng, b)
			s[k] = x / (x + y)
		}
		samples[i] = s
	}
	return summarise(means, samples)
}

// Means returns each mean's posterior, Normal(mean, variance/n) (a flat
// prior on the mean; with fewer than two values the variance is taken as
// the pooled one, so an arm with no data is as unsure as can be).
func Means(ms []Mean) []Result {
	rng := rand.New(rand.NewPCG(Seed, Seed))
	pooledN, pooledSum, pooledSq := 0.0, 0.0, 0.0
	for _, m := range ms {
		pooledN += float64(m.N)
		pooledSum += m.Sum
		pooledSq += m.SumSq
	}
	pooledVar := variance(pooledN, pooledSum, pooledSq)
	samples := make([][]float64, len(ms))
	means := make([]float64, len(ms))
	for i, m := range ms {
		n := float64(m.N)
		mu, v := 0.0, pooledVar
		if n > 0 {
			mu = m.Sum / n
		}
		if n >= 2 {
			v = variance(n, m.Sum, m.SumSq)
		}
		sd := math.Sqrt(v / max(n, 1))
		means[i] = mu
		s := make([]float64, Draws)
		for k := range s {
			s[k] = mu + sd*rng.NormFloat64()
		}
		samples[i] = s
	}
	return summarise(means, samples)
}

// variance is the sample variance of n values from their sum and sum of
// squares (0 for fewer than two).
func variance(n, sum, sq float64) float64 {
	if n < 2 {
		return 0
	}
	return max((sq-sum*sum/n)/(n-1), 0)
}

// summarise turns each variant's draws into its interval and, draw by
// draw, counts which variant is the highest (ties split evenly).
func summarise(means []float64, samples [][]float64) []Result {
	out := make([]Result, len(samples))
	if len(samples) == 0 {
		return out
	}
	wins := make([]float64, len(samples))
	for k := range Draws {
		best, tied := math.Inf(-1), 0
		for i := range samples {
			switch v := samples[i][k]; {
			case v > best:
				best, tied = v, 1
			case v == best:
				tied++
			}
		}
		for i := range samples {
			if samples[i][k] == best {
				wins[i] += 1 / float64(tied)
			}
		}
	}
	for i, s := range samples {
		sorted := append([]float64(nil), s...)
		sort.Float64s(sorted)
		out[i] = Result{
			Mean:  means[i],
			Lo:    quantile(sorted, (1-Level)/2),
			Hi:    quantile(sorted, 1-(1-Level)/2),
			PBest: wins[i] / Draws,
		}
	}
	return out
}

// quantile is the q-quantile of sorted values (linear interpolation).
func quantile(sorted []float64, q float64) float64 {
	pos := q * float64(len(sorted)-1)
	i := int(pos)
	if i >= len(sorted)-1 {
		return sorted[len(sorted)-1]
	}
	f := pos - float64(i)
	return sorted[i]*(1-f) + sorted[i+1]*f
}

// gamma draws from Gamma(a, 1), a >= 1 (Marsaglia and Tsang, 2000).
func gamma(rng *rand.Rand, a float64) float64 {
	d := a - 1.0/3
	c := 1 / math.Sqrt(9*d)
	for {
		x := rng.NormFloat64()
		v := 1 + c*x
		if v <= 0 {
			continue
		}
		v = v * v * v
		u := rng.Float64()
		if u < 1-0.0331*x*x*x*x || math.Log(u) < 0.5*x*x+d*(1-v+math.Log(v)) {
			return d * v
		}
	}
}
