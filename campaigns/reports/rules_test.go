package reports_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/campaigns"
)

func TestReportCountsRuleFirings(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	c := b.seed(t, 6, 1000)
	b.launch(t, c)
	ids, _ := b.deliveries(t, c.ID)
	for i, id := range ids {
		status := []string{"fired", "fired", "failed"}[i%3]
		// Raw on purpose: firings in chosen states without running the rules
		// worker (engine owns rule_firings; reports cannot import engine's tests).
		_, err := b.pool.Exec(ctx, `INSERT INTO rule_firings (campaign_id, rule_name, delivery_id, contact_id, status)
			SELECT $1, 'pricing click', id, contact_id, $3 FROM deliveries WHERE id = $2`, c.ID, id, status)
		require.NoError(t, err)
	}
	r, err := b.svc.Report(ctx, c.ID)
	require.NoError(t, err)
	require.Equal(t, []campaigns.RuleCount{{Name: "pricing click", Fired: 4, Failed: 2}}, r.Rules)
}
