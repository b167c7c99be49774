package analytics

import (
	"fmt"
	"sort"
	"strings"
)

// contrast is how a feature tells clusters apart, in words: more of it,
// less of it.
var contrast = map[string][2]string{
	"recency_days": {"less recent", "more recent"},
	"frequency":    {"buy more often", "buy less often"},
	"monetary":     {"spend more", "spend less"},
	"open_rate":    {"open more", "open less"},
	"click_rate":   {"click more", "click less"},
}

// describeAll sets every cluster's description: Describe's words against
// the average contact and, where several clusters would read the same,
// what sets each apart from the others that read alike. In each such group
// the feature the clusters differ on most names the one with the most of
// it and the one with the least ("of these, spend more"); those left alike
// go on with the next feature. Clusters with identical centroids are
// numbered, so k clusters always get k distinct descriptions.
func describeAll(cs []Cluster) {
	base := make([]string, len(cs))
	extra := make([][]string, len(cs))
	for j := range cs {
		base[j] = Describe(cs[j].Standard, cs[j].Centroid)
	}
	used := make([]map[string]bool, len(cs))
	for j := range used {
		used[j] = map[string]bool{}
	}
	for range Features {
		groups := alike(base, extra)
		if len(groups) == 0 {
			break
		}
		for _, g := range groups {
			f, ok := widest(cs, g, used[g[0]])
			if !ok {
				continue
			}
			for _, j := range g {
				used[j][f] = true
			}
			sort.SliceStable(g, func(a, b int) bool { return cs[g[a]].Standard[f] > cs[g[b]].Standard[f] })
			hi, lo := cs[g[0]].Standard[f], cs[g[len(g)-1]].Standard[f]
			for _, j := range g {
				switch cs[j].Standard[f] {
				case hi:
					extra[j] = append(extra[j], contrast[f][0])
				case lo:
					extra[j] = append(extra[j], contrast[f][1])
				}
			}
		}
	}
	for _, g := range alike(base, extra) {
		for _, j := range g {
			extra[j] = append(extra[j], fmt.Sprintf("group %d", cs[j].ID))
		}
	}
	for j := range cs {
		cs[j].Description = base[j]
		if len(extra[j]) > 0 {
			cs[j].Description += " — of these, " + strings.Join(extra[j], ", ")
		}
	}
}

// alike returns the groups (indexes in order) of two or more clusters
// whose descriptions so far are the same.
func alike(base []string, extra [][]string) [][]int {
	by := map[string][]int{}
	var keys []string
	for j := range base {
		k := base[j] + "\x00" + strings.Join(extra[j], ",")
		if by[k] == nil {
			keys = append(keys, k)
		}
		by[k] = append(by[k], j)
	}
	var out [][]int
	for _, k := range keys {
		if len(by[k]) > 1 {
			out = append(out, by[k])
		}
	}
	return out
}

// widest is the feature not yet used on which the clusters of g spread
// most (in standard deviations); false when they agree on all of them.
func widest(cs []Cluster, g []int, used map[string]bool) (string, bool) {
	best, spread := "", 0.0
	for _, f := range Features {
		if used[f] {
			continue
		}
		lo, hi := cs[g[0]].Standard[f], cs[g[0]].Standard[f]
		for _, j := range g[1:] {
			lo, hi = min(lo, cs[j].Standard[f]), max(hi, cs[j].Standard[f])
		}
		if hi-lo > spread {
			best, spread = f, hi-lo
		}
	}
	return best, best != ""
}
