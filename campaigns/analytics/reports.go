package analytics

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/peykar/peykar/internal/errs"
)

// ScoredContact is one contact in a ranked list.
type ScoredContact struct {
	ContactID          int64      `json:"contact_id"`
	Email              string     `json:"email"`
	Name               string     `json:"name"`
	RFMSegment         string     `json:"rfm_segment"`
	Recency            int        `json:"rfm_recency"`
	Frequency          int        `json:"rfm_frequency"`
	Monetary           int        `json:"rfm_monetary"`
	Purchases          int        `json:"purchases"`
	Revenue            float64    `json:"revenue"`
	Value              float64    `json:"value"`
	ChurnRisk          float64    `json:"churn_risk"`
	ValueAtRisk        float64    `json:"value_at_risk"`
	ResponseLikelihood float64    `json:"response_likelihood"`
	ClusterID          int        `json:"cluster_id"`
	LastActivityAt     *time.Time `json:"last_activity_at"`
}

const (
	scoredFields = `s.contact_id, c.email, c.name, s.rfm_segment, s.rfm_recency, s.rfm_frequency, s.rfm_monetary,
	s.purchases, s.monetary, s.value, s.churn_risk, s.churn_risk * s.value, s.response_likelihood, s.cluster_id, s.last_activity_at`
	scoredColumns = scoredFields + ` FROM contact_scores s JOIN contacts c ON c.id = s.contact_id`
)

// scoredDest is where a row of scoredFields scans to.
func scoredDest(x *ScoredContact) []any {
	return []any{&x.ContactID, &x.Email, &x.Name, &x.RFMSegment, &x.Recency, &x.Frequency, &x.Monetary,
		&x.Purchases, &x.Revenue, &x.Value, &x.ChurnRisk, &x.ValueAtRisk, &x.ResponseLikelihood, &x.ClusterID, &x.LastActivityAt}
}

func scanScored(row pgx.CollectableRow) (ScoredContact, error) {
	var x ScoredContact
	err := row.Scan(scoredDest(&x)...)
	return x, err
}

// Ranked is one of the summary's questions: how many contacts answer it,
// their value, and the first of them.
type Ranked struct {
	// Rule is the segment rule that selects the same contacts.
	Rule        string          `json:"rule"`
	Count       int64           `json:"count"`
	Value       float64         `json:"value"`
	ValueAtRisk float64         `json:"value_at_risk"`
	Items       []ScoredContact `json:"items"`
}

// Summary answers the four questions: who is most valuable, who is loyal,
// who is about to churn, who is likely to respond.
type Summary struct {
	ComputedAt       *time.Time `json:"computed_at"`
	Contacts         int64      `json:"contacts"`
	MostValuable     Ranked     `json:"most_valuable"`
	Loyal            Ranked     `json:"loyal"`
	ChurnRisk        Ranked     `json:"churn_risk"`
	LikelyResponders Ranked     `json:"likely_responders"`
}

// ChurnThreshold is the churn risk from which a customer counts as at risk
// in the summary.
const ChurnThreshold = 0.5

// GetSummary builds the summary with limit contacts per list.
func GetSummary(ctx context.Context, db DBTX, limit int) (Summary, error) {
	var s Summary
	tx, err := readTx(ctx, db)
	if err != nil {
		return s, fmt.Errorf("analytics: summary: %w", err)
	}
	defer tx.Rollback(ctx)
	db = tx
	if err := db.QueryRow(ctx, query("summary")).Scan(&s.ComputedAt, &s.Contacts); err != nil {
		return s, fmt.Errorf("analytics: summary: %w", err)
	}
	top, err := TopCut(ctx, db, 10)
	if err != nil {
		return s, err
	}
	lists := []struct {
		dst   *Ranked
		where string
		order string
		rule  string
		args  []any
	}{
		{&s.MostValuable, "s.value > 0", "s.value DESC", "rfm.value > 0", nil},
		{&s.Loyal, "s.rfm_segment = ANY($1::text[])", "s.value DESC", `rfm.segment in ["champions", "loyal"]`, []any{[]string{SegmentChampions, SegmentLoyal}}},
		{&s.ChurnRisk, churnAtRiskWhere, "s.churn_risk * s.value DESC", fmt.Sprintf("churn.risk >= %g && rfm.value > 0", ChurnThreshold), []any{ChurnThreshold}},
		// Exactly the top 10%, in the cut's own order (score, then id).
		{&s.LikelyResponders, cutWhere, "s.response_likelihood DESC", top.Rule(), []any{top.MinScore, top.LastID}},
	}
	// Every list's count and sums in one scan of the scored contacts (one
	// join with contacts instead of one per list).
	var aggs []string
	var aggArgs, dests []any
	for _, l := range lists {
		where := renumber(l.where, len(aggArgs))
		aggs = append(aggs, fmt.Sprintf(`count(*) FILTER (WHERE %[1]s), coalesce(sum(s.value) FILTER (WHERE %[1]s), 0),
			coalesce(sum(s.value * s.churn_risk) FILTER (WHERE %[1]s), 0)`, where))
		aggArgs = append(aggArgs, l.args...)
		dests = append(dests, &l.dst.Count, &l.dst.Value, &l.dst.ValueAtRisk)
	}
	if err := db.QueryRow(ctx, `SELECT `+strings.Join(aggs, ", ")+`
		FROM contact_scores s JOIN contacts c ON c.id = s.contact_id`, aggArgs...).Scan(dests...); err != nil {
		return s, fmt.Errorf("analytics: summary: %w", err)
	}
	for _, l := range lists {
		l.dst.Rule = l.rule
		l.dst.Value, l.dst.ValueAtRisk = roundTo(l.dst.Value, 2), roundTo(l.dst.ValueAtRisk, 2)
		rows, err := db.Query(ctx, `SELECT `+scoredColumns+` WHERE `+l.where+` ORDER BY `+l.order+`, s.contact_id LIMIT `+fmt.Sprint(limit), l.args...)
		if err != nil {
			return s, fmt.Errorf("analytics: summary: %w", err)
		}
		if l.dst.Items, err = pgx.CollectRows(rows, scanScored); err != nil {
			return s, fmt.Errorf("analytics: summary: %w", err)
		}
	}
	return s, nil
}

// ChurnRows streams scored buyers and engaged contacts by value at risk
// (churn risk × value), highest first, up to limit (0: all), calling fn per row.
func ChurnRows(ctx context.Context, db DBTX, limit int, fn func(ScoredContact) error) error {
	q := `SELECT ` + scoredColumns + ` WHERE s.value > 0 ORDER BY s.churn_risk * s.value DESC, s.contact_id`
	if limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", limit)
	}
	rows, err := db.Query(ctx, q)
	if err != nil {
		return fmt.Errorf("analytics: churn report: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		x, err := scanScored(rows)
		if err != nil {
			return fmt.Errorf("analytics: churn report: %w", err)
		}
		if err := fn(x); err != nil {
			return err
		}
	}
	return rows.Err()
}

// GridCell is one cell of the R × F grid.
type GridCell struct {
	Recency   int     `json:"recency"`
	Frequency int     `json:"frequency"`
	Count     int64   `json:"count"`
	Value     float64 `json:"value"`
}

// SegmentCount is one named RFM segment's size and value.
type SegmentCount struct {
	Segment string  `json:"segment"`
	Count   int64   `json:"count"`
	Value   float64 `json:"value"`
}

// RFMGrid is the 5 × 5 recency × frequency grid (all 25 cells, recency 5
// first), the named segments, and how many contacts have no purchase.
type RFMGrid struct {
	Cells      []GridCell     `json:"cells"`
	Segments   []SegmentCount `json:"segments"`
	NoPurchase int64          `json:"no_purchase"`
}

// GetRFMGrid counts contacts and value per R × F cell and per segment.
func GetRFMGrid(ctx context.Context, db DBTX) (RFMGrid, error) {
	g := RFMGrid{Cells: make([]GridCell, 0, 25), Segments: make([]SegmentCount, 0, len(Segments))}
	idx := map[[2]int]int{}
	for r := 5; r >= 1; r-- {
		for f := 1; f <= 5; f++ {
			idx[[2]int{r, f}] = len(g.Cells)
			g.Cells = append(g.Cells, GridCell{Recency: r, Frequency: f})
		}
	}
	rows, err := db.Query(ctx, query("rfm_grid"))
	if err != nil {
		return g, fmt.Errorf("analytics: rfm grid: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r, f int
		var n int64
		var v float64
		if err := rows.Scan(&r, &f, &n, &v); err != nil {
			return g, fmt.Errorf("analytics: rfm grid: %w", err)
		}
		if i, ok := idx[[2]int{r, f}]; ok {
			g.Cells[i].Count, g.Cells[i].Value = n, roundTo(v, 2)
		} else {
			g.NoPurchase += n
		}
	}
	if err := rows.Err(); err != nil {
		return g, fmt.Errorf("analytics: rfm grid: %w", err)
	}
	seg := map[string]SegmentCount{}
	rows, err = db.Query(ctx, query("rfm_segments"))
	if err != nil {
		return g, fmt.Errorf("analytics: rfm segments: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var sc SegmentCount
		if err := rows.Scan(&sc.Segment, &sc.Count, &sc.Value); err != nil {
			return g, fmt.Errorf("analytics: rfm segments: %w", err)
		}
		sc.Value = roundTo(sc.Value, 2)
		seg[sc.Segment] = sc
	}
	if err := rows.Err(); err != nil {
		return g, fmt.Errorf("analytics: rfm segments: %w", err)
	}
	for _, name := range Segments {
		sc := seg[name]
		sc.Segment = name
		g.Segments = append(g.Segments, sc)
	}
	return g, nil
}

// ListClusters reads the clusters of the last run.
func ListClusters(ctx context.Context, db DBTX) ([]Cluster, error) {
	rows, err := db.Query(ctx, query("list_clusters"))
	if err != nil {
		return nil, fmt.Errorf("analytics: clusters: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Cluster, error) {
		var c Cluster
		var cj, sj []byte
		if err := row.Scan(&c.ID, &c.Description, &c.Size, &cj, &sj); err != nil {
			return c, err
		}
		if err := json.Unmarshal(cj, &c.Centroid); err != nil {
			return c, err
		}
		return c, json.Unmarshal(sj, &c.Standard)
	})
	if err != nil {
		return nil, fmt.Errorf("analytics: clusters: %w", err)
	}
	return out, nil
}

// ListModels reads the stored response models.
func ListModels(ctx context.Context, db DBTX) ([]Model, error) {
	rows, err := db.Query(ctx, query("list_models"))
	if err != nil {
		return nil, fmt.Errorf("analytics: response models: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Model, error) {
		var m Model
		var ev []byte
		if err := row.Scan(&m.Channel, &m.Prior.Alpha, &m.Prior.Beta, &ev, &m.TrainedAt); err != nil {
			return m, err
		}
		m.Prior.Mean = m.Prior.Alpha / (m.Prior.Alpha + m.Prior.Beta)
		if err := json.Unmarshal(ev, &m.Evaluation); err != nil {
			return m, err
		}
		m.Prior.Contacts = m.Evaluation.TrainContacts
		return m, nil
	})
	if err != nil {
		return nil, fmt.Errorf("analytics: response models: %w", err)
	}
	return out, nil
}

// ListAnomalies reads the current anomaly flags, of one campaign when
// campaignID > 0 (not found when that campaign does not exist).
func ListAnomalies(ctx context.Context, db DBTX, campaignID int64) ([]Anomaly, error) {
	if campaignID > 0 {
		var one int
		err := db.QueryRow(ctx, query("campaign_exists"), campaignID).Scan(&one)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, errs.New(errs.NotFound, "no such campaign")
		}
		if err != nil {
			return nil, fmt.Errorf("analytics: anomalies: %w", err)
		}
	}
	rows, err := db.Query(ctx, query("list_anomalies"), campaignID)
	if err != nil {
		return nil, fmt.Errorf("analytics: anomalies: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[Anomaly])
	if err != nil {
		return nil, fmt.Errorf("analytics: anomalies: %w", err)
	}
	return out, nil
}

// ContactScores returns one contact's scores and when they were computed,
// or nil when the contact has none yet (no recompute since it was added).
func ContactScores(ctx context.Context, db DBTX, contactID int64) (*ScoredContact, time.Time, error) {
	var computed time.Time
	var x ScoredContact
	err := db.QueryRow(ctx, `SELECT `+scoredFields+`, s.computed_at FROM contact_scores s JOIN contacts c ON c.id = s.contact_id
		WHERE s.contact_id = $1`, contactID).Scan(append(scoredDest(&x), &computed)...)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, computed, nil
	}
	if err != nil {
		return nil, computed, fmt.Errorf("contact scores: %w", err)
	}
	return &x, computed, nil
}

// renumber shifts a condition's parameters $1…$9 by offset, so conditions
// with their own numbering share one statement.
func renumber(cond string, offset int) string {
	for i := 9; i >= 1; i-- {
		cond = strings.ReplaceAll(cond, fmt.Sprintf("$%d", i), fmt.Sprintf("$%d", i+offset))
	}
	return cond
}
