package analytics

import (
	"context"
	"encoding/json"
	"errors"
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

// trialsSQL yields one row per sent delivery of channel $1 with whether it
// was answered by a click or a conversion. %s is an extra condition on d.
const trialsSQL = `
SELECT d.contact_id, d.campaign_id,
    (d.first_click_at IS NOT NULL OR r.delivery_id IS NOT NULL) AS y
FROM deliveries d
JOIN campaigns c ON c.id = d.campaign_id AND c.channel = $1
LEFT JOIN (SELECT DISTINCT delivery_id FROM transactions
           WHERE delivery_id IS NOT NULL AND type IN ('purchase', 'conversion')) r ON r.delivery_id = d.id
WHERE d.sent_at IS NOT NULL %s`

// countsSQL aggregates trials per contact: n deliveries, k responses.
func countsSQL(cond string) string {
	return `SELECT contact_id, count(*)::float8 AS n, count(*) FILTER (WHERE y)::float8 AS k
		FROM (` + fmt.Sprintf(trialsSQL, cond) + `) t GROUP BY contact_id`
}

// fitPrior fits the prior of channel over the trials matching cond.
func fitPrior(ctx context.Context, db DBTX, channel, cond string, args ...any) (Prior, error) {
	var mu, s2, h float64
	var n int64
	err := db.QueryRow(ctx, `SELECT coalesce(avg(k / n), 0), coalesce(var_pop(k / n), 0), coalesce(avg(1 / n), 1), count(*)
		FROM (`+countsSQL(cond)+`) c`, append([]any{channel}, args...)...).Scan(&mu, &s2, &h, &n)
	if err != nil {
		return Prior{}, fmt.Errorf("analytics: fit response prior: %w", err)
	}
	return FitPrior(mu, s2, h, n), nil
}

// TrainResponse fits the response prior of every channel on all sent
// deliveries, evaluates it on a hold-out of the most recent campaigns,
// stores both in response_models and writes the email channel's posterior
// score to every scored contact.
func TrainResponse(ctx context.Context, db DBTX, cfg Config) ([]Model, error) {
	cfg = cfg.WithDefaults()
	channels := []string{ScoredChannel}
	rows, err := db.Query(ctx, `SELECT DISTINCT channel FROM campaigns WHERE channel <> $1 ORDER BY 1`, ScoredChannel)
	if err != nil {
		return nil, fmt.Errorf("analytics: channels: %w", err)
	}
	more, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("analytics: channels: %w", err)
	}
	channels = append(channels, more...)
	var models []Model
	for _, ch := range channels {
		m := Model{Channel: ch, TrainedAt: cfg.Now}
		if m.Prior, err = fitPrior(ctx, db, ch, ""); err != nil {
			return nil, err
		}
		if m.Evaluation, err = Evaluate(ctx, db, ch, cfg.HoldoutCampaigns); err != nil {
			return nil, err
		}
		ev, _ := json.Marshal(m.Evaluation)
		if _, err := db.Exec(ctx, `INSERT INTO response_models (channel, alpha, beta, evaluation, trained_at)
			VALUES ($1, $2, $3, $4, $5) ON CONFLICT (channel) DO UPDATE SET alpha = EXCLUDED.alpha,
			beta = EXCLUDED.beta, evaluation = EXCLUDED.evaluation, trained_at = EXCLUDED.trained_at`,
			ch, m.Prior.Alpha, m.Prior.Beta, ev, cfg.Now); err != nil {
			return nil, fmt.Errorf("analytics: store response model: %w", err)
		}
		if ch == ScoredChannel {
			if err := scoreResponse(ctx, db, m.Prior); err != nil {
				return nil, err
			}
		}
		models = append(models, m)
	}
	return models, nil
}

// scoreResponse writes (k+α)/(n+α+β) to every scored contact, touching only
// rows whose score changed.
func scoreResponse(ctx context.Context, db DBTX, p Prior) error {
	_, err := db.Exec(ctx, `UPDATE contact_scores s SET response_likelihood = v.p
		FROM (SELECT s2.contact_id,
		        round(((coalesce(a.k, 0) + $2) / (coalesce(a.n, 0) + $2 + $3))::numeric, 6)::float8 AS p
		      FROM contact_scores s2 LEFT JOIN (`+countsSQL("")+`) a ON a.contact_id = s2.contact_id) v
		WHERE v.contact_id = s.contact_id AND s.response_likelihood IS DISTINCT FROM v.p`,
		ScoredChannel, p.Alpha, p.Beta)
	if err != nil {
		return fmt.Errorf("analytics: score response: %w", err)
	}
	return nil
}

// TopResponders returns the response likelihood at which the top percent of
// active contacts begins: the rule `response.likelihood >= minScore` selects
// them (slightly more when several contacts share the boundary score).
// percent must be in (0, 100]. With no scored contacts it returns 0.
func TopResponders(ctx context.Context, db DBTX, percent float64) (minScore float64, err error) {
	if !(percent > 0 && percent <= 100) {
		return 0, errs.Field("percent", "must be more than 0 and at most 100")
	}
	var v *float64
	err = db.QueryRow(ctx, `SELECT percentile_disc($1::float8) WITHIN GROUP (ORDER BY s.response_likelihood)
		FROM contact_scores s JOIN contacts c ON c.id = s.contact_id WHERE c.status = 'active'`,
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

var errNoHoldout = errors.New("no campaign to hold out")

// lift95 is the z of a two-sided 95% interval.
const z95 = 1.959964

// roundTo keeps JSON readable.
func roundTo(x float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(x*p) / p
}
