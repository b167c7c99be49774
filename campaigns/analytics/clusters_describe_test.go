package analytics

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

func cluster(id int, z ...float64) Cluster {
	c := Cluster{ID: id, Standard: map[string]float64{}, Centroid: map[string]float64{"frequency": 0}}
	for d, f := range Features {
		c.Standard[f] = z[d]
	}
	return c
}

// TestDescribeAllTellsAlikeClustersApart: clusters that Describe alone
// words the same (all near the average, all non-buyers) get what sets
// each apart from the others; identical centroids are numbered.
func TestDescribeAllTellsAlikeClustersApart(t *testing.T) {
	t.Parallel()
	cs := []Cluster{
		cluster(1, 0.1, 0, 0, 0.4, 0.1),
		cluster(2, 0.2, 0, 0, -0.3, 0.1),
		cluster(3, 0.3, 0, 0, 0.0, 0.2),
		cluster(4, 0.3, 0, 0, 0.0, -0.2),
		cluster(5, 0.9, 0, 0, 0.0, 0.0), // "lapsed": already different
		cluster(6, 0.1, 0, 0, 0.0, 0.0),
		cluster(7, 0.1, 0, 0, 0.0, 0.0), // the same as 6
	}
	for _, c := range cs[:4] {
		require.Equal(t, Describe(cs[0].Standard, cs[0].Centroid), Describe(c.Standard, c.Centroid), "the defect: alike on their own")
	}
	describeAll(cs)
	seen := map[string]int{}
	for _, c := range cs {
		require.NotContains(t, seen, c.Description, "clusters %d and %d", seen[c.Description], c.ID)
		seen[c.Description] = c.ID
	}
	require.Equal(t, "mostly non-buyers — of these, open more", cs[0].Description)
	require.Equal(t, "mostly non-buyers — of these, open less", cs[1].Description)
	require.Equal(t, "mostly non-buyers, lapsed", cs[4].Description, "a cluster unlike the others keeps its plain words")
	require.Contains(t, cs[5].Description, "group 6")
	require.Contains(t, cs[6].Description, "group 7")
}

// TestFittedClustersHaveDistinctDescriptions: k clusters fitted on
// generated contacts — many non-buyers that differ only in how often they
// open, and a few big buyers — get k distinct descriptions, stored as such
// (Describe alone words several of them the same).
func TestFittedClustersHaveDistinctDescriptions(t *testing.T) {
	t.Parallel()
	f := setup(t)
	// Raw on purpose: 600 contacts with planted engagement counters, set-based.
	_, err := f.pool.Exec(f.ctx, `INSERT INTO contacts (email, created_at)
		SELECT 'g' || g || '@example.com', $1::timestamptz - make_interval(days => 200 + g % 7)
		FROM generate_series(1, 600) g`, now)
	require.NoError(t, err)
	_, err = f.pool.Exec(f.ctx, `INSERT INTO contact_stats (contact_id, sent, opens, clicks)
		SELECT id, 20, substr(split_part(email, '@', 1), 2)::int % 21, 0 FROM contacts WHERE email LIKE 'g%@example.com'`)
	require.NoError(t, err)
	_, err = f.pool.Exec(f.ctx, `INSERT INTO transactions (contact_id, type, value, occurred_at)
		SELECT c.id, 'purchase', 500, $1::timestamptz - make_interval(days => 3 + n)
		FROM contacts c, generate_series(1, 5) n WHERE c.id % 20 = 0`, now)
	require.NoError(t, err)
	_, err = ScoreContacts(f.ctx, f.pool, Config{Now: now})
	require.NoError(t, err)
	alikeBefore := 0
	for _, k := range []int{4, 6, 8} {
		t.Run(fmt.Sprint(k), func(t *testing.T) {
			clusters, err := FitClusters(f.ctx, f.pool, Config{Now: now, Clusters: k})
			require.NoError(t, err)
			require.Len(t, clusters, k)
			descs, plain := map[string]bool{}, map[string]bool{}
			for _, c := range clusters {
				descs[c.Description] = true
				plain[Describe(c.Standard, c.Centroid)] = true
			}
			alikeBefore += k - len(plain)
			require.Len(t, descs, k, "k clusters, k descriptions: %v", descs)
			var stored int
			require.NoError(t, f.pool.QueryRow(f.ctx, `SELECT count(DISTINCT description) FROM clusters`).Scan(&stored))
			require.Equal(t, k, stored)
		})
	}
	require.Positive(t, alikeBefore, "the data gives clusters that Describe alone words the same")
}
