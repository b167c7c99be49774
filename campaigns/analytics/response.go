package analytics

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/peykar/peykar/internal/errs"
)

// ScoredChannel is the channel whose response likelihood is stored per
// contact (contact_scores.response_likelihood, response.likelihood in
// segments). Other channels get a model (prior and evaluation) too.
const ScoredChannel = "email"

// maxStrength caps the prior's α+β: when contacts look no more different
// than chance (no between-contact variance), everyone gets the base rate.
const maxStrength = 10000

// Prior is the Beta(α, β) prior of a channel's response rate, fitted by the
// method of moments over contacts' observed rates.
type Prior struct {
	Alpha float64 `json:"alpha"`
	Beta  float64 `json:"beta"`
	// Mean is α/(α+β), the base response rate.
	Mean float64 `json:"mean"`
	// Contacts is how many contacts with at least one delivery it was fitted on.
	Contacts int64 `json:"contacts"`
}

// Score is the posterior mean response probability of a contact with k
// responses out of n deliveries: (k+α)/(n+α+β).
func (p Prior) Score(k, n float64) float64 { return (k + p.Alpha) / (n + p.Alpha + p.Beta) }

// FitPrior fits Beta(α, β) from the moments of per-contact rates p_i = k_i/n_i:
// with μ = mean p_i, s² = variance of p_i and h = mean 1/n_i, the
// between-contact variance is σ² = (s² − μ(1−μ)h)/(1−h), and
// α+β = μ(1−μ)/σ² − 1 (capped at maxStrength when σ² ≤ 0 or unidentified).
func FitPrior(mu, s2, h float64, contacts int64) Prior {
	if contacts == 0 {
		return Prior{Alpha: 1, Beta: 1, Mean: 0.5}
	}
	strength := float64(maxStrength)
	if h < 1 {
		if sigma2 := (s2 - mu*(1-mu)*h) / (1 - h); sigma2 > 0 {
			strength = min(max(mu*(1-mu)/sigma2-1, 0.1), maxStrength)
		}
	}
	a := max(mu*strength, 1e-3)
	b := max((1-mu)*strength, 1e-3)
	return Prior{Alpha: a, Beta: b, Mean: a / (a + b), Contacts: contacts}
}

// countsTable is the per-contact tally one training reads deliveries into,
// a temporary table dropped at commit.
const countsTable = "analytics_response_counts"

// tally reads every sent delivery of channel once into countsTable: per
// contact, n and k over all deliveries, nt and kt over the training
// deliveries (sent before cutoff, not in the hold-out campaigns held), and
// whether the contact got (held) and answered (yh) a hold-out campaign. A
// response is a click or a purchase/conversion carrying the delivery's id.
func tally(ctx context.Context, tx pgx.Tx, channel string, held []int64, cutoff time.Time) error {
	if _, err := tx.Exec(ctx, `DROP TABLE IF EXISTS pg_temp.`+countsTable); err != nil {
		return fmt.Errorf("analytics: response counts: %w", err)
	}
	_, err := tx.Exec(ctx, `CREATE TEMP TABLE `+countsTable+` ON COMMIT DROP AS
		SELECT contact_id, count(*)::float8 AS n, count(*) FILTER (WHERE y)::float8 AS k,
			count(*) FILTER (WHERE train)::float8 AS nt, count(*) FILTER (WHERE train AND y)::float8 AS kt,
			bool_or(held) AS held, bool_or(held AND y) AS yh
		FROM (SELECT d.contact_id, (d.first_click_at IS NOT NULL OR r.delivery_id IS NOT NULL) AS y,
				(d.sent_at < $2 AND d.campaign_id <> ALL($3::bigint[])) AS train,
				(d.campaign_id = ANY($3::bigint[])) AS held
			FROM deliveries d
			JOIN campaigns c ON c.id = d.campaign_id AND c.channel = $1
			LEFT JOIN (SELECT DISTINCT delivery_id FROM transactions
			           WHERE delivery_id IS NOT NULL AND type IN ('purchase', 'conversion')) r ON r.delivery_id = d.id
			WHERE d.sent_at IS NOT NULL) t
		GROUP BY contact_id`, channel, cutoff, held)
	if err != nil {
		return fmt.Errorf("analytics: response counts: %w", err)
	}
	return nil
}

// fitFrom fits a prior over countsTable's contacts with n (or nt) ≥ 1.
func fitFrom(ctx context.Context, tx pgx.Tx, n, k string) (Prior, error) {
	var mu, s2, h float64
	var count int64
	err := tx.QueryRow(ctx, fmt.Sprintf(`SELECT coalesce(avg(%[2]s / %[1]s), 0), coalesce(var_pop(%[2]s / %[1]s), 0),
		coalesce(avg(1 / %[1]s), 1), count(*) FROM `+countsTable+` WHERE %[1]s > 0`, n, k)).Scan(&mu, &s2, &h, &count)
	if err != nil {
		return Prior{}, fmt.Errorf("analytics: fit response prior: %w", err)
	}
	return FitPrior(mu, s2, h, count), nil
}

// TrainResponse fits the response prior of every channel on all sent
// deliveries, evaluates it on a hold-out of the most recent campaigns,
// stores both in response_models and writes the email channel's posterior
// score to every scored contact. Each channel's deliveries are read once.
func TrainResponse(ctx context.Context, db DBTX, cfg Config) ([]Model, error) {
	cfg = cfg.WithDefaults()
	tx, err := begin(ctx, db)
	if err != nil {
		return nil, fmt.Errorf("analytics: train response: %w", err)
	}
	defer tx.Rollback(ctx)
	models, err := trainChannels(ctx, tx, cfg, "")
	if err != nil {
		return nil, err
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("analytics: train response: %w", err)
	}
	return models, nil
}

// trainChannels trains every channel's model, the scored channel first.
// With into empty the scored channel's likelihoods are written to
// contact_scores; otherwise into is a temporary table of (contact_id, p)
// for newScores' contacts, to be applied with the other scores.
func trainChannels(ctx context.Context, tx pgx.Tx, cfg Config, into string) ([]Model, error) {
	rows, err := tx.Query(ctx, query("other_channels"), ScoredChannel)
	if err != nil {
		return nil, fmt.Errorf("analytics: channels: %w", err)
	}
	more, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("analytics: channels: %w", err)
	}
	var models []Model
	for _, ch := range append([]string{ScoredChannel}, more...) {
		m, err := trainChannel(ctx, tx, ch, cfg, into)
		if err != nil {
			return nil, err
		}
		models = append(models, m)
	}
	return models, nil
}

func trainChannel(ctx context.Context, tx pgx.Tx, ch string, cfg Config, into string) (Model, error) {
	m := Model{Channel: ch, TrainedAt: cfg.Now}
	held, cutoff, err := holdout(ctx, tx, ch, cfg.HoldoutCampaigns)
	if err != nil {
		return m, err
	}
	if err := tally(ctx, tx, ch, held, cutoff); err != nil {
		return m, err
	}
	if m.Prior, err = fitFrom(ctx, tx, "n", "k"); err != nil {
		return m, err
	}
	if m.Evaluation, err = evaluateCounts(ctx, tx, held); err != nil {
		return m, err
	}
	ev, _ := json.Marshal(m.Evaluation)
	if _, err := tx.Exec(ctx, query("store_model"),
		ch, m.Prior.Alpha, m.Prior.Beta, ev, cfg.Now); err != nil {
		return m, fmt.Errorf("analytics: store response model: %w", err)
	}
	if ch == ScoredChannel {
		if err := scoreResponse(ctx, tx, m.Prior, into); err != nil {
			return m, err
		}
	}
	if _, err := tx.Exec(ctx, `DROP TABLE `+countsTable); err != nil {
		return m, fmt.Errorf("analytics: response counts: %w", err)
	}
	return m, nil
}

// likelihoodSQL is the posterior (k+α)/(n+α+β) of every contact of the
// scores table %s, from countsTable; $1 α, $2 β.
const likelihoodSQL = `SELECT s2.contact_id,
	round(((coalesce(a.k, 0) + $1) / (coalesce(a.n, 0) + $1 + $2))::numeric, 6)::float8 AS p
	FROM %s s2 LEFT JOIN ` + countsTable + ` a ON a.contact_id = s2.contact_id`

// scoreResponse writes the scored channel's likelihoods: to contact_scores,
// touching only changed rows, or with into set to that temporary table for
// newScores' contacts.
func scoreResponse(ctx context.Context, tx pgx.Tx, prior Prior, into string) error {
	q := `UPDATE contact_scores s SET response_likelihood = v.p
		FROM (` + fmt.Sprintf(likelihoodSQL, "contact_scores") + `) v
		WHERE v.contact_id = s.contact_id AND s.response_likelihood IS DISTINCT FROM v.p`
	if into != "" {
		q = `CREATE TEMP TABLE ` + into + ` ON COMMIT DROP AS ` + fmt.Sprintf(likelihoodSQL, newScores)
	}
	if _, err := tx.Exec(ctx, q, prior.Alpha, prior.Beta); err != nil {
		return fmt.Errorf("analytics: score response: %w", err)
	}
	return nil
}

// TopResponders returns the response likelihood at which the top percent of
// active contacts begins: the rule `response.likelihood >= minScore` selects
// them and every contact tied at the boundary score, which can be many more
// (contacts without history share one score); TopCut is the exact cut.
// percent must be in (0, 100]. With no scored contacts it returns 0.
func TopResponders(ctx context.Context, db DBTX, percent float64) (minScore float64, err error) {
	if !(percent > 0 && percent <= 100) {
		return 0, errs.Field("percent", "must be more than 0 and at most 100")
	}
	var v *float64
	err = db.QueryRow(ctx, query("likelihood_percentile"),
		1-percent/100).Scan(&v)
	if err != nil {
		return 0, fmt.Errorf("analytics: top responders: %w", err)
	}
	if v == nil {
		return 0, nil
	}
	return *v, nil
}

// Model is a channel's trained response model.
type Model struct {
	Channel    string     `json:"channel"`
	Prior      Prior      `json:"prior"`
	Evaluation Evaluation `json:"evaluation"`
	TrainedAt  time.Time  `json:"trained_at"`
}

// z95 is the z of a two-sided 95% interval.
const z95 = 1.959964

// roundTo keeps JSON readable.
func roundTo(x float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(x*p) / p
}
