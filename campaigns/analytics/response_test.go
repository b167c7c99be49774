package analytics

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

// plantResponses creates n contacts and campaigns weekly email campaigns
// sent to all of them, each recipient clicking with probability prob (an SQL
// expression over the contact c), from a fixed random seed.
func (f *fixture) plantResponses(n, campaigns int, prob string) {
	f.t.Helper()
	tx, err := f.pool.Begin(f.ctx)
	require.NoError(f.t, err)
	defer tx.Rollback(f.ctx)
	// Raw on purpose: one seeded random() draw over set-based rows plants the
	// responses; row by row through the owners would change the draws.
	_, err = tx.Exec(f.ctx, `SELECT setseed(0.25)`)
	require.NoError(f.t, err)
	_, err = tx.Exec(f.ctx, `INSERT INTO contacts (email, created_at)
		SELECT 'p' || g || '@example.com', $1 FROM generate_series(1, $2) g`, now.Add(-days(365)), n)
	require.NoError(f.t, err)
	for i := range campaigns {
		at := now.Add(-days(float64(7 * (campaigns - i))))
		var id int64
		require.NoError(f.t, tx.QueryRow(f.ctx, `INSERT INTO campaigns (name, status, launched_at) VALUES ($1, 'finished', $2) RETURNING id`,
			"c", at).Scan(&id))
		_, err = tx.Exec(f.ctx, `INSERT INTO deliveries (campaign_id, step, contact_id, status, sent_at, first_click_at)
			SELECT $1, 'main', c.id, 'sent', $2, CASE WHEN random() < `+prob+` THEN $2::timestamptz + interval '1 hour' END
			FROM contacts c ORDER BY c.id`, id, at)
		require.NoError(f.t, err)
	}
	require.NoError(f.t, tx.Commit(f.ctx))
}

func TestFitPriorMoments(t *testing.T) {
	t.Parallel()
	// Beta(2, 8): μ = 0.2, σ² = μ(1−μ)/(α+β+1) = 0.16/11. With n = 10 for
	// everyone, s² = σ² + (μ(1−μ) − σ²)/10.
	sigma2 := 0.16 / 11
	s2 := sigma2 + (0.16-sigma2)/10
	p := FitPrior(0.2, s2, 0.1, 100)
	require.InDelta(t, 2, p.Alpha, 1e-9)
	require.InDelta(t, 8, p.Beta, 1e-9)
	// No spread beyond chance: everyone gets the base rate.
	p = FitPrior(0.2, 0.16/10, 0.1, 100)
	require.InDelta(t, maxStrength, p.Alpha+p.Beta, 1e-6)
	require.InDelta(t, 0.2, p.Score(3, 5), 1e-3)
}

func TestResponseModelFindsPlantedSignal(t *testing.T) {
	t.Parallel()
	f := setup(t)
	// One contact in five clicks 30% of the time, the rest 3%.
	f.plantResponses(3000, 6, "CASE WHEN c.id % 5 = 0 THEN 0.3 ELSE 0.03 END")
	_, err := ScoreContacts(f.ctx, f.pool, Config{Now: now})
	require.NoError(t, err)
	models, err := TrainResponse(f.ctx, f.pool, Config{Now: now})
	require.NoError(t, err)
	require.Len(t, models, 1)
	ev := models[0].Evaluation
	t.Logf("planted: %+v", ev)
	require.Len(t, ev.HoldoutCampaigns, 1)
	require.EqualValues(t, 3000, ev.Recipients)
	require.Greater(t, ev.AUC, 0.5+4*ev.AUCSE, "AUC well above chance")
	require.Greater(t, ev.LiftLow, 1.5, "the top decile answers far more often")
	require.EqualValues(t, 3000, ev.TrainContacts)

	// The stored score (trained on everything) separates the groups, and
	// the top 20% threshold picks mostly the planted responders.
	var hi, lo float64
	require.NoError(t, f.pool.QueryRow(f.ctx, `SELECT avg(response_likelihood) FILTER (WHERE contact_id % 5 = 0),
		avg(response_likelihood) FILTER (WHERE contact_id % 5 <> 0) FROM contact_scores`).Scan(&hi, &lo))
	require.Greater(t, hi, 3*lo)
	minScore, err := TopResponders(f.ctx, f.pool, 20)
	require.NoError(t, err)
	var picked, planted int
	require.NoError(t, f.pool.QueryRow(f.ctx, `SELECT count(*), count(*) FILTER (WHERE contact_id % 5 = 0)
		FROM contact_scores WHERE response_likelihood >= $1`, minScore).Scan(&picked, &planted))
	require.GreaterOrEqual(t, picked, 600)
	require.Greater(t, float64(planted)/float64(picked), 0.4, "a random fifth would be 20%% planted responders")
	_, err = TopResponders(f.ctx, f.pool, 0)
	require.Error(t, err)
}

func TestResponseModelClaimsNoLiftOnNoise(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.plantResponses(3000, 6, "0.1")
	_, err := ScoreContacts(f.ctx, f.pool, Config{Now: now})
	require.NoError(t, err)
	models, err := TrainResponse(f.ctx, f.pool, Config{Now: now})
	require.NoError(t, err)
	ev := models[0].Evaluation
	t.Logf("noise: %+v", ev)
	// 3000 recipients, ~300 responders: the AUC's standard error is about
	// 0.018, so chance stays within 3 SE of 0.5 (a 0.3% false alarm).
	require.LessOrEqual(t, math.Abs(ev.AUC-0.5), 3*ev.AUCSE)
	require.LessOrEqual(t, ev.LiftLow, 1.0)
	require.GreaterOrEqual(t, ev.LiftHigh, 1.0)
	require.InDelta(t, 0.1, ev.Prior.Mean, 0.01)
}

func TestEvaluateWithoutHistory(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ev, err := Evaluate(f.ctx, f.pool, ScoredChannel, 1)
	require.NoError(t, err)
	require.NotEmpty(t, ev.Note)
	f.plantResponses(10, 1, "0.5")
	ev, err = Evaluate(f.ctx, f.pool, ScoredChannel, 1)
	require.NoError(t, err)
	require.Contains(t, ev.Note, "no deliveries before")
}
