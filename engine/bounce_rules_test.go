package engine_test

import (
	"context"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/campaigns"
	"github.com/peykar/peykar/campaigns/contacts"
)

// A 5xx at send time is a bounce: "on: bounce" rules fire for it as they do
// for asynchronous bounces.
func TestSynchronousBounceFiresBounceRules(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	ctx := context.Background()
	c := b.seed(t, 3, 0)
	b.sink.SetReject(func(rcpt string) *smtp.SMTPError {
		if rcpt == "user1@example.com" {
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
		}
		return nil
	})
	c.Rules = []campaigns.Rule{
		{Name: "bounced", On: "bounce", Actions: []campaigns.Action{{Type: "add_tag", Tag: "bad-address"}}},
		{Name: "bounced too", On: "bounce", Actions: []campaigns.Action{{Type: "set_attribute", Name: "bounced", Value: true}}},
	}
	require.NoError(t, b.svc.Update(ctx, &c))
	_, err := b.svc.Launch(ctx, c.ID)
	require.NoError(t, err)
	b.waitStatus(t, c.ID, campaigns.StatusFinished, 20*time.Second)
	id := mustContactID(t, b, "user1@example.com")
	require.Eventually(t, func() bool {
		p, err := contacts.GetMany(ctx, b.pool, []int64{id})
		return err == nil && len(p) == 1 && contains(p[0].Tags, "bad-address") && p[0].Attributes["bounced"] == true
	}, 20*time.Second, 20*time.Millisecond)
	var fired int
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT count(*) FROM rule_firings WHERE campaign_id = $1 AND status = 'fired'`, c.ID).Scan(&fired))
	require.Equal(t, 2, fired, "each bounce rule fires once, for the bounced delivery only")
	var jobs int
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = 'rules'`).Scan(&jobs))
	require.Equal(t, 1, jobs, "one rules job per bounced delivery")
}
