package segments

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/campaigns/contacts"
)

// TestRuleScores checks the analytics variables (rfm, churn, response,
// cluster) in both paths, including contacts without scores, which read
// segment "" and zeros.
func TestRuleScores(t *testing.T) {
	t.Parallel()
	b := setup(t)
	champ := b.mustCreate(t, contacts.ContactInput{Email: "champ@example.com"})
	risky := b.mustCreate(t, contacts.ContactInput{Email: "risky@example.com"})
	none := b.mustCreate(t, contacts.ContactInput{Email: "none@example.com"})
	_, err := b.pool.Exec(b.ctx, `INSERT INTO contact_scores (contact_id, rfm_recency, rfm_frequency, rfm_monetary, rfm_segment,
		value, churn_risk, response_likelihood, cluster_id) VALUES
		($1, 5, 5, 4, 'champions', 900.5, 0.1, 0.3, 1), ($2, 1, 3, 4, 'at_risk', 120, 0.8, 0.02, 2)`, champ, risky)
	require.NoError(t, err)
	now := time.Now()
	cases := map[string][]int64{
		`rfm.segment == "champions"`:                           {champ},
		`rfm.segment == ""`:                                    {none},
		`rfm.value == 0 && churn.risk == 0 && cluster.id == 0`: {none},
		`rfm.recency >= 4 && rfm.monetary == 4`:                {champ},
		`churn.risk > 0.5 && rfm.value >= 100`:                 {risky},
		`response.likelihood >= 0.25`:                          {champ},
		`cluster.id in [1, 2]`:                                 {champ, risky},
		`rfm.frequency < 4`:                                    {risky, none},
		`rfm.segment in ["at_risk", "cannot_lose"]`:            {risky},
	}
	for rule, want := range cases {
		c, err := CompileSegment(rule)
		require.NoError(t, err, rule)
		require.True(t, c.Translatable(), rule)
		sqlIDs, err := matchingIDs(b.ctx, b.pool, c, now, 0, 100)
		require.NoError(t, err, rule)
		require.Equal(t, want, sqlIDs, rule)
		goPath := *c
		goPath.tree, goPath.all, goPath.pre = nil, false, nil
		goIDs, err := matchingIDs(b.ctx, b.pool, &goPath, now, 0, 100)
		require.NoError(t, err, rule)
		require.Equal(t, want, goIDs, "Go path: "+rule)
	}
	_, err = CompileSegment(`rfm.segmnt == "x"`)
	require.Error(t, err, "unknown fields fail at compile time")
	_, err = CompileSegment(`churn.risk == "high"`)
	require.Error(t, err, "type errors fail at compile time")
}
