package analytics

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestKMeansRecoversBlobs(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(7, 7))
	centers := [][]float64{{0, 0, 0}, {10, 0, 5}, {0, 10, -5}, {10, 10, 10}}
	var points [][]float64
	var truth []int
	for i := range 800 {
		c := i % len(centers)
		p := make([]float64, 3)
		for d := range p {
			p[d] = centers[c][d] + rng.NormFloat64()
		}
		points = append(points, p)
		truth = append(truth, c)
	}
	_, labels := kmeans(points, 4, 100, rand.New(rand.NewPCG(1, 2)))
	requireSamePartition(t, truth, labels)
}

// requireSamePartition checks that two labelings group the items
// identically (an adjusted Rand index of exactly 1).
func requireSamePartition(t *testing.T, truth, got []int) {
	t.Helper()
	fwd, back := map[int]int{}, map[int]int{}
	for i := range truth {
		if g, ok := fwd[truth[i]]; ok {
			require.Equal(t, g, got[i], "item %d split from its planted group", i)
		} else {
			fwd[truth[i]] = got[i]
		}
		if w, ok := back[got[i]]; ok {
			require.Equal(t, w, truth[i], "item %d merged with another planted group", i)
		} else {
			back[got[i]] = truth[i]
		}
	}
}

func TestClustersRecoverPlantedGroups(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := f.ctx
	// Group 0: recent frequent big spenders who open and click. Group 1:
	// lapsed non-buyers who never open. Group 2: old one-off buyers who
	// open now and then.
	// Raw on purpose: 300 contacts with planted engagement counters, set-based.
	_, err := f.pool.Exec(ctx, `INSERT INTO contacts (email, created_at, attributes)
		SELECT 'k' || g || '@example.com', $1::timestamptz - interval '365 days', jsonb_build_object('group', g % 3)
		FROM generate_series(1, 300) g`, now)
	require.NoError(t, err)
	_, err = f.pool.Exec(ctx, `INSERT INTO contact_stats (contact_id, sent, opens, clicks, last_open_at)
		SELECT c.id, 20,
			CASE g % 3 WHEN 0 THEN 14 + g % 4 WHEN 1 THEN 0 ELSE 4 + g % 3 END,
			CASE g % 3 WHEN 0 THEN 7 + g % 3 ELSE 0 END,
			CASE g % 3 WHEN 0 THEN $1::timestamptz - interval '2 days' WHEN 2 THEN $1::timestamptz - interval '100 days' END
		FROM contacts c, LATERAL (SELECT substr(split_part(c.email, '@', 1), 2)::int AS g) x WHERE c.email LIKE 'k%@example.com'`, now)
	require.NoError(t, err)
	_, err = f.pool.Exec(ctx, `INSERT INTO transactions (contact_id, type, value, occurred_at)
		SELECT c.id, 'purchase', 90 + c.id % 20, $1::timestamptz - make_interval(days => 1 + c.id::int % 4 + 6 * n)
		FROM contacts c, generate_series(0, 9) n WHERE c.attributes->>'group' = '0'
		UNION ALL
		SELECT c.id, 'purchase', 20 + c.id % 5, $1::timestamptz - make_interval(days => 150 + c.id::int % 30)
		FROM contacts c WHERE c.attributes->>'group' = '2'`, now)
	require.NoError(t, err)
	_, err = ScoreContacts(ctx, f.pool, Config{Now: now})
	require.NoError(t, err)
	clusters, err := FitClusters(ctx, f.pool, Config{Now: now, Clusters: 3})
	require.NoError(t, err)
	require.Len(t, clusters, 3)

	rows, err := f.pool.Query(ctx, `SELECT (c.attributes->>'group')::int, s.cluster_id FROM contacts c
		JOIN contact_scores s ON s.contact_id = c.id ORDER BY c.id`)
	require.NoError(t, err)
	var truth, got []int
	for rows.Next() {
		var g, k int
		require.NoError(t, rows.Scan(&g, &k))
		truth, got = append(truth, g), append(got, k)
	}
	require.NoError(t, rows.Err())
	require.Len(t, truth, 300)
	requireSamePartition(t, truth, got)

	// Cluster 1 has the highest spend: the planted big spenders.
	require.Equal(t, 1, got[2], "contact 3 (group 0) is in cluster 1")
	require.EqualValues(t, 100, clusters[0].Size)
	require.Contains(t, clusters[0].Description, "high spend")
	require.Contains(t, clusters[0].Description, "recent")
	require.Contains(t, clusters[0].Description, "frequent clickers")
	for _, c := range clusters {
		t.Logf("cluster %d (%d): %s %v", c.ID, c.Size, c.Description, c.Centroid)
		if c.Centroid["frequency"] == 0 {
			require.Contains(t, c.Description, "non-buyers")
		}
	}
	var stored int
	require.NoError(t, f.pool.QueryRow(ctx, `SELECT count(*) FROM clusters`).Scan(&stored))
	require.Equal(t, 3, stored)

	// Refitting on a sample smaller than the base still assigns everyone.
	_, err = FitClusters(ctx, f.pool, Config{Now: now, Clusters: 3, SampleSize: 150})
	require.NoError(t, err)
	var unassigned int
	require.NoError(t, f.pool.QueryRow(ctx, `SELECT count(*) FROM contact_scores WHERE cluster_id = 0`).Scan(&unassigned))
	require.Zero(t, unassigned)
}
