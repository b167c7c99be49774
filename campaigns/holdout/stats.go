package holdout

import "math"

// z95 is the standard normal quantile of a two-sided 95% interval.
const z95 = 1.959963984540054

// wilson is the Wilson score interval of x successes in n trials.
func wilson(x, n int64) (lo, hi float64) {
	if n <= 0 {
		return 0, 0
	}
	nf := float64(n)
	p := float64(x) / nf
	z2 := z95 * z95
	mid := (p + z2/(2*nf)) / (1 + z2/nf)
	half := z95 / (1 + z2/nf) * math.Sqrt(p*(1-p)/nf+z2/(4*nf*nf))
	return math.Max(0, mid-half), math.Min(1, mid+half)
}

// newcombe is the 95% interval of the difference of two proportions
// x1/n1 − x2/n2 by Newcombe's hybrid score method (his method 10), built
// from the two Wilson intervals: it stays inside [−1, 1] and behaves at
// counts of zero, where the Wald interval collapses.
func newcombe(x1, n1, x2, n2 int64) (lo, hi float64) {
	p1, p2 := float64(x1)/float64(n1), float64(x2)/float64(n2)
	l1, u1 := wilson(x1, n1)
	l2, u2 := wilson(x2, n2)
	d := p1 - p2
	return d - math.Hypot(p1-l1, u2-p2), d + math.Hypot(u1-p1, p2-l2)
}

// relativeLift is the 95% interval of the relative lift p1/p2 − 1 (the
// risk ratio minus one) by the Katz log method: ln(p1/p2) ± z·SE with
// SE² = 1/x1 − 1/n1 + 1/x2 − 1/n2. When a group has no converters or only
// converters, 0.5 is added to every cell (Haldane–Anscombe) so the
// interval stays finite. ok is false when a group is empty.
func relativeLift(x1, n1, x2, n2 int64) (lo, hi float64, ok bool) {
	if n1 <= 0 || n2 <= 0 {
		return 0, 0, false
	}
	a, b, c, d := float64(x1), float64(n1), float64(x2), float64(n2)
	if x1 == 0 || x2 == 0 || x1 == n1 || x2 == n2 {
		a, b, c, d = a+0.5, b+1, c+0.5, d+1
	}
	lr := math.Log((a / b) / (c / d))
	se := math.Sqrt(1/a - 1/b + 1/c - 1/d)
	return math.Exp(lr-z95*se) - 1, math.Exp(lr+z95*se) - 1, true
}
