package analytics

import (
	"context"
	"fmt"
	"strings"
)

// The temporary tables a recompute computes into before its one write.
const (
	newLikelihood = "analytics_new_likelihood" // contact_id, p
	newClusters   = "analytics_new_clusters"   // contact_id, cid
)

// recomputeScores runs RFM/value/churn, the response model and the
// clusters in one transaction that writes each contact_scores row at most
// once: every step computes into a temporary table (newScores, then
// newLikelihood and newClusters for the same contacts), and one UPDATE of
// the rows where anything changed and one INSERT of the contacts not
// scored yet apply them all.
//
// Run as three transactions that each rewrote their column (ScoreContacts,
// TrainResponse, FitClusters), a first recompute wrote every row three
// times: an insert, then two updates of every row of which only about half
// fit their page as HOT updates (fillfactor 70 leaves room for one rewrite
// of part of a page), the rest moving to new pages with a new index entry.
// The table grew by half, past shared_buffers at a million contacts, with
// its WAL. Readers now also see a recompute's scores all at once.
func recomputeScores(ctx context.Context, db DBTX, cfg Config, step func(string, func() error) error, res *Result) error {
	tx, err := begin(ctx, db)
	if err != nil {
		return fmt.Errorf("analytics: recompute: %w", err)
	}
	defer tx.Rollback(ctx)
	if err := step("rfm_value_churn", func() error { _, err := computeScores(ctx, tx, cfg); return err }); err != nil {
		return err
	}
	if err := step("response", func() error {
		res.Models, err = trainChannels(ctx, tx, cfg, newLikelihood)
		return err
	}); err != nil {
		return err
	}
	var centroids [][]float64
	if err := step("clusters", func() error {
		centroids, err = fitAssign(ctx, tx, cfg, newScores, newClusters)
		return err
	}); err != nil {
		return err
	}
	return step("write_scores", func() error {
		if res.Scored, err = applyScores(ctx, tx, cfg); err != nil {
			return err
		}
		if res.Clusters, err = storeClusters(ctx, tx, cfg, centroids); err != nil {
			return err
		}
		if err := tx.Commit(ctx); err != nil {
			return fmt.Errorf("analytics: recompute: %w", err)
		}
		return nil
	})
}

// applyScores writes newScores, newLikelihood and newClusters to
// contact_scores: the rows where any of them changed (computed_at moves
// only when the RFM/value/churn columns change, as in ScoreContacts) and
// the contacts not scored yet; then drops erased contacts' scores. It
// returns how many rows it wrote.
func applyScores(ctx context.Context, tx DBTX, cfg Config) (int64, error) {
	src := `(SELECT n.*, l.p, k.cid FROM ` + newScores + ` n
		LEFT JOIN ` + newLikelihood + ` l ON l.contact_id = n.contact_id
		LEFT JOIN ` + newClusters + ` k ON k.contact_id = n.contact_id) n`
	set := []string{}
	for _, c := range strings.Split(scoreColumns, ", ") {
		set = append(set, c+" = n."+c)
	}
	upd, err := tx.Exec(ctx, `UPDATE contact_scores s SET `+strings.Join(set, ", ")+`,
		response_likelihood = coalesce(n.p, s.response_likelihood), cluster_id = coalesce(n.cid, s.cluster_id),
		computed_at = CASE WHEN (`+prefixed("s.", scoreColumns)+`) IS DISTINCT FROM (`+prefixed("n.", scoreColumns)+`)
			THEN $1 ELSE s.computed_at END
		FROM `+src+` WHERE n.contact_id = s.contact_id AND n.scored
		  AND (`+prefixed("s.", scoreColumns)+`, s.response_likelihood, s.cluster_id) IS DISTINCT FROM
		      (`+prefixed("n.", scoreColumns)+`, coalesce(n.p, s.response_likelihood), coalesce(n.cid, s.cluster_id))`, cfg.Now)
	if err != nil {
		return 0, fmt.Errorf("analytics: write scores: %w", err)
	}
	ins, err := tx.Exec(ctx, `INSERT INTO contact_scores (contact_id, `+scoreColumns+`, response_likelihood, cluster_id, computed_at)
		SELECT n.contact_id, `+prefixed("n.", scoreColumns)+`, coalesce(n.p, 0), coalesce(n.cid, 0), $1 FROM `+src+`
		WHERE NOT n.scored
		ON CONFLICT (contact_id) DO NOTHING`, cfg.Now)
	if err != nil {
		return 0, fmt.Errorf("analytics: write scores: %w", err)
	}
	if _, err := tx.Exec(ctx, query("delete_gone_scores")); err != nil {
		return 0, fmt.Errorf("analytics: drop erased scores: %w", err)
	}
	return upd.RowsAffected() + ins.RowsAffected(), nil
}
