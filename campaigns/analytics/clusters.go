package analytics

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strings"
)

// Features are the k-means features, in order. Recency, frequency and
// monetary are log1p-transformed before standardising (they are heavily
// skewed); the rates are capped at 1.
var Features = []string{"recency_days", "frequency", "monetary", "open_rate", "click_rate"}

// featuresSQL selects contact_id and the transformed features f1…f5 of every
// contact of a scores table (the first %s: contact_scores, or a recompute's
// newScores); $1 is now.
const featuresSQL = `
SELECT s.contact_id,
    ln(1 + greatest(extract(epoch FROM $1::timestamptz - coalesce(s.last_activity_at, c.created_at))::float8 / 86400, 0)) AS f1,
    ln(1 + s.purchases) AS f2,
    ln(1 + greatest(s.monetary, 0)) AS f3,
    least(coalesce(st.opens, 0)::float8 / greatest(st.sent, 1), 1) AS f4,
    least(coalesce(st.clicks, 0)::float8 / greatest(st.sent, 1), 1) AS f5
FROM %s s JOIN contacts c ON c.id = s.contact_id
LEFT JOIN contact_stats st ON st.contact_id = s.contact_id`

// Cluster is one k-means cluster.
type Cluster struct {
	ID          int    `json:"id"`
	Description string `json:"description"`
	Size        int64  `json:"size"`
	// Centroid holds the cluster's mean raw features (days, purchases,
	// money, rates), by feature name.
	Centroid map[string]float64 `json:"centroid"`
	// Standard is the centroid in standardised units (0 is the average
	// contact, 1 one standard deviation above), by feature name.
	Standard map[string]float64 `json:"standard"`
}

// FitClusters fits k-means on a bounded sample of scored contacts, assigns
// every contact to its nearest centroid in SQL and replaces the clusters
// table, in one transaction. It returns the clusters, ordered by id (1 is the highest spend).
func FitClusters(ctx context.Context, db DBTX, cfg Config) ([]Cluster, error) {
	cfg = cfg.WithDefaults()
	tx, err := begin(ctx, db)
	if err != nil {
		return nil, fmt.Errorf("analytics: clusters: %w", err)
	}
	defer tx.Rollback(ctx)
	out, err := fitClusters(ctx, tx, cfg)
	if err != nil {
		return nil, err
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("analytics: clusters: %w", err)
	}
	return out, nil
}

func fitClusters(ctx context.Context, db DBTX, cfg Config) ([]Cluster, error) {
	centroids, err := fitAssign(ctx, db, cfg, "contact_scores", "")
	if err != nil {
		return nil, err
	}
	return storeClusters(ctx, db, cfg, centroids)
}

// fitAssign fits k-means on a sample of the scores table from and assigns
// every contact of it to its nearest centroid: in contact_scores when into
// is empty, else into a new temporary table into (contact_id, cid). It
// returns the centroids in cluster-id order, none when from is empty.
func fitAssign(ctx context.Context, db DBTX, cfg Config, from, into string) ([][]float64, error) {
	points, err := sample(ctx, db, cfg, from)
	if err != nil {
		return nil, err
	}
	if len(points) == 0 {
		if into != "" {
			if _, err := db.Exec(ctx, `CREATE TEMP TABLE `+into+` (contact_id bigint, cid int) ON COMMIT DROP`); err != nil {
				return nil, fmt.Errorf("analytics: assign clusters: %w", err)
			}
		}
		return nil, nil
	}
	dim := len(Features)
	mean, sd := make([]float64, dim), make([]float64, dim)
	for _, p := range points {
		for d, v := range p {
			mean[d] += v
		}
	}
	for d := range mean {
		mean[d] /= float64(len(points))
	}
	for _, p := range points {
		for d, v := range p {
			sd[d] += (v - mean[d]) * (v - mean[d])
		}
	}
	for d := range sd {
		sd[d] = math.Sqrt(sd[d] / float64(len(points)))
		if sd[d] < 1e-9 {
			sd[d] = 1 // a constant feature: leave it unscaled (all zeros)
		}
	}
	for _, p := range points {
		for d := range p {
			p[d] = (p[d] - mean[d]) / sd[d]
		}
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x9e3779b97f4a7c15))
	centroids, _ := kmeans(points, cfg.Clusters, 100, rng)
	// Stable ids: by descending standardised spend, then recency.
	sort.SliceStable(centroids, func(i, j int) bool {
		if centroids[i][2] != centroids[j][2] {
			return centroids[i][2] > centroids[j][2]
		}
		return centroids[i][0] < centroids[j][0]
	})
	flat := make([]float64, 0, len(centroids)*dim)
	for _, c := range centroids {
		flat = append(flat, c...)
	}
	if err := assign(ctx, db, cfg, mean, sd, flat, len(centroids), from, into); err != nil {
		return nil, err
	}
	return centroids, nil
}

// sample reads at most cfg.SampleSize features of the scores table from:
// all of them, in id order, when there are few enough; otherwise the
// contacts with the smallest hash of (id, seed), in that order. The sample
// depends only on which contacts there are, not on where their rows lie: a
// TABLESAMPLE (by block and row position) cut by LIMIT in scan order drew
// other contacts after the rows moved, and from a million contacts on
// PostgreSQL's synchronized scans start a big table's scan wherever the
// last one stopped; each run then fitted other clusters and rewrote most
// contacts' cluster_id.
func sample(ctx context.Context, db DBTX, cfg Config, from string) ([][]float64, error) {
	var total int64
	if err := db.QueryRow(ctx, `SELECT count(*) FROM `+from).Scan(&total); err != nil {
		return nil, fmt.Errorf("analytics: count scored contacts: %w", err)
	}
	q := fmt.Sprintf(featuresSQL, from) + ` ORDER BY s.contact_id`
	if total > int64(cfg.SampleSize) {
		// hashint8extended is uniform over int64; the filter keeps about
		// 110% of the bound so the sort before LIMIT stays small.
		h := fmt.Sprintf("(hashint8extended(s.contact_id, %d) & %d)", int64(cfg.Seed&math.MaxInt64), int64(math.MaxInt64))
		q = fmt.Sprintf(featuresSQL, from)
		if bound := 1.1 * float64(cfg.SampleSize) / float64(total) * math.MaxInt64; bound < math.MaxInt64/2 {
			q += fmt.Sprintf(" WHERE %s <= %d", h, int64(bound))
		}
		q += fmt.Sprintf(" ORDER BY %s, s.contact_id", h)
	}
	q += fmt.Sprintf(" LIMIT %d", cfg.SampleSize)
	rows, err := db.Query(ctx, q, cfg.Now)
	if err != nil {
		return nil, fmt.Errorf("analytics: sample contacts: %w", err)
	}
	defer rows.Close()
	points := make([][]float64, 0, min(total, int64(cfg.SampleSize)))
	for rows.Next() {
		var id int64
		p := make([]float64, len(Features))
		if err := rows.Scan(&id, &p[0], &p[1], &p[2], &p[3], &p[4]); err != nil {
			return nil, fmt.Errorf("analytics: sample contacts: %w", err)
		}
		points = append(points, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("analytics: sample contacts: %w", err)
	}
	return points, nil
}

// assign sets every contact of the scores table from to its nearest
// centroid (1-based): contact_scores.cluster_id, only where it changes, or
// with into set a new temporary table into (contact_id, cid). Set-based; the means, deviations and centroids travel as
// array parameters. The squared distances d1…dk are columns and the argmin
// a CASE (ties go to the lower id, as in Go's nearest).
func assign(ctx context.Context, db DBTX, cfg Config, mean, sd, flat []float64, k int, from, into string) error {
	dim := len(Features)
	dists := make([]string, k)
	for j := range k {
		terms := make([]string, dim)
		for d := range dim {
			terms[d] = fmt.Sprintf("(z.z%d - ($4::float8[])[%d]) ^ 2", d+1, j*dim+d+1)
		}
		dists[j] = strings.Join(terms, " + ") + fmt.Sprintf(" AS d%d", j+1)
	}
	var argmin strings.Builder
	argmin.WriteString("CASE")
	for j := 1; j < k; j++ {
		fmt.Fprintf(&argmin, " WHEN d%d <= least(", j)
		var rest []string
		for i := j + 1; i <= k; i++ {
			rest = append(rest, fmt.Sprintf("d%d", i))
		}
		fmt.Fprintf(&argmin, "%s) THEN %d", strings.Join(rest, ", "), j)
	}
	fmt.Fprintf(&argmin, " ELSE %d END", k)
	cid := argmin.String()
	if k == 1 {
		cid = "1"
	}
	// For j < k, "dj <= least(later)" after all earlier WHENs failed means
	// dj is no larger than any later distance and smaller than every
	// earlier one: the first minimum. OFFSET 0 keeps the planner from
	// inlining the distances into every branch (k² evaluations per row).
	zs := make([]string, dim)
	for d := range dim {
		zs[d] = fmt.Sprintf("(f.f%d - ($2::float8[])[%d]) / ($3::float8[])[%d] AS z%d", d+1, d+1, d+1, d+1)
	}
	v := `SELECT y.contact_id, ` + cid + ` AS cid
	      FROM (SELECT z.contact_id, ` + strings.Join(dists, ", ") + `
	            FROM (SELECT f.contact_id, ` + strings.Join(zs, ", ") + `
	                  FROM (` + fmt.Sprintf(featuresSQL, from) + `) f OFFSET 0) z OFFSET 0) y`
	q := `UPDATE contact_scores s SET cluster_id = v.cid FROM (` + v + `) v
	WHERE v.contact_id = s.contact_id AND s.cluster_id IS DISTINCT FROM v.cid`
	if into != "" {
		q = `CREATE TEMP TABLE ` + into + ` ON COMMIT DROP AS ` + v
	}
	if _, err := db.Exec(ctx, q, cfg.Now, mean, sd, flat); err != nil {
		return fmt.Errorf("analytics: assign clusters: %w", err)
	}
	return nil
}

// storeClusters replaces the clusters table with the centroids, their sizes
// and raw feature means (read from contact_scores, so after the assignment
// is applied), and descriptions that tell them apart. With no centroids the
// table is emptied.
func storeClusters(ctx context.Context, db DBTX, cfg Config, centroids [][]float64) ([]Cluster, error) {
	if len(centroids) == 0 {
		if _, err := db.Exec(ctx, query("delete_clusters")); err != nil {
			return nil, fmt.Errorf("analytics: clear clusters: %w", err)
		}
		return []Cluster{}, nil
	}
	rows, err := db.Query(ctx, query("cluster_summaries"), cfg.Now)
	if err != nil {
		return nil, fmt.Errorf("analytics: cluster sizes: %w", err)
	}
	defer rows.Close()
	out := make([]Cluster, len(centroids))
	for j, c := range centroids {
		out[j] = Cluster{ID: j + 1, Centroid: map[string]float64{}, Standard: map[string]float64{}}
		for d, name := range Features {
			out[j].Standard[name] = roundTo(c[d], 3)
		}
	}
	for rows.Next() {
		var id int
		var size int64
		raw := make([]float64, len(Features))
		if err := rows.Scan(&id, &size, &raw[0], &raw[1], &raw[2], &raw[3], &raw[4]); err != nil {
			return nil, fmt.Errorf("analytics: cluster sizes: %w", err)
		}
		if id < 1 || id > len(out) {
			continue
		}
		out[id-1].Size = size
		for d, name := range Features {
			out[id-1].Centroid[name] = roundTo(raw[d], 4)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("analytics: cluster sizes: %w", err)
	}
	rows.Close()
	if _, err := db.Exec(ctx, query("delete_clusters")); err != nil {
		return nil, fmt.Errorf("analytics: replace clusters: %w", err)
	}
	describeAll(out)
	for j := range out {
		cj, _ := json.Marshal(out[j].Centroid)
		sj, _ := json.Marshal(out[j].Standard)
		if _, err := db.Exec(ctx, query("insert_cluster"), out[j].ID, out[j].Description, out[j].Size, cj, sj, cfg.Now); err != nil {
			return nil, fmt.Errorf("analytics: store cluster: %w", err)
		}
	}
	return out, nil
}

// Describe puts a cluster in plain words from its standardised centroid
// (±0.5 standard deviations from the average contact is notable) and its
// raw means.
func Describe(z, raw map[string]float64) string {
	var words []string
	add := func(feature string, high, low string) {
		switch v := z[feature]; {
		case v >= 0.5 && high != "":
			words = append(words, high)
		case v <= -0.5 && low != "":
			words = append(words, low)
		}
	}
	buyers := raw["frequency"] >= 0.5
	if buyers {
		add("monetary", "high spend", "low spend")
	} else {
		words = append(words, "mostly non-buyers")
	}
	add("recency_days", "lapsed", "recent")
	if buyers {
		add("frequency", "frequent buyers", "one-off buyers")
	}
	add("open_rate", "regular openers", "rarely open")
	add("click_rate", "frequent clickers", "rarely click")
	if len(words) == 0 {
		return "average on every measure"
	}
	return strings.Join(words, ", ")
}
