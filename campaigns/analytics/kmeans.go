package analytics

import (
	"math"
	"math/rand/v2"
)

// kmeans clusters points into k groups with k-means++ seeding and Lloyd
// iterations (at most maxIter, stopping when no point moves). It returns the
// centroids and each point's cluster. rng makes it repeatable.
func kmeans(points [][]float64, k, maxIter int, rng *rand.Rand) ([][]float64, []int) {
	if len(points) == 0 || k <= 0 {
		return nil, nil
	}
	k = min(k, len(points))
	dim := len(points[0])
	centroids := seedPlusPlus(points, k, rng)
	labels := make([]int, len(points))
	for i := range labels {
		labels[i] = -1
	}
	for range maxIter {
		moved := 0
		for i, p := range points {
			j, _ := nearest(p, centroids)
			if labels[i] != j {
				labels[i] = j
				moved++
			}
		}
		if moved == 0 {
			break
		}
		sums := make([][]float64, k)
		counts := make([]int, k)
		for j := range sums {
			sums[j] = make([]float64, dim)
		}
		for i, p := range points {
			counts[labels[i]]++
			for d, v := range p {
				sums[labels[i]][d] += v
			}
		}
		for j := range centroids {
			if counts[j] == 0 {
				// An empty cluster takes the point farthest from its centroid.
				far, best := 0, -1.0
				for i, p := range points {
					if d := dist2(p, centroids[labels[i]]); d > best {
						far, best = i, d
					}
				}
				copy(centroids[j], points[far])
				continue
			}
			for d := range sums[j] {
				centroids[j][d] = sums[j][d] / float64(counts[j])
			}
		}
	}
	return centroids, labels
}

// seedPlusPlus picks k initial centroids: the first uniformly, each next
// one with probability proportional to its squared distance to the nearest
// centroid chosen so far.
func seedPlusPlus(points [][]float64, k int, rng *rand.Rand) [][]float64 {
	centroids := [][]float64{clone(points[rng.IntN(len(points))])}
	d2 := make([]float64, len(points))
	for len(centroids) < k {
		total := 0.0
		for i, p := range points {
			_, d2[i] = nearest(p, centroids)
			total += d2[i]
		}
		if total == 0 {
			centroids = append(centroids, clone(points[rng.IntN(len(points))]))
			continue
		}
		r := rng.Float64() * total
		pick := len(points) - 1
		for i, d := range d2 {
			if r -= d; r <= 0 {
				pick = i
				break
			}
		}
		centroids = append(centroids, clone(points[pick]))
	}
	return centroids
}

func nearest(p []float64, centroids [][]float64) (int, float64) {
	best, bd := 0, math.Inf(1)
	for j, c := range centroids {
		if d := dist2(p, c); d < bd {
			best, bd = j, d
		}
	}
	return best, bd
}

func dist2(a, b []float64) float64 {
	s := 0.0
	for i := range a {
		d := a[i] - b[i]
		s += d * d
	}
	return s
}

func clone(p []float64) []float64 { return append([]float64(nil), p...) }
