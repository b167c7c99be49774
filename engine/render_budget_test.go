package engine_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/campaigns"
	"github.com/peykar/peykar/campaigns/contacts"
)

// A template that passes a render budget for one recipient (three nested
// loops over 25 tags: 15,650 iterations) fails that delivery for good with
// the budget error; the job is not retried, and everyone else gets mail.
func TestRenderBudgetFailsOnlyThatDeliveryAndIsNotRetried(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	ctx := context.Background()
	c := b.seed(t, 4, 0)
	tags := make([]string, 25)
	for i := range tags {
		tags[i] = fmt.Sprintf("t%d", i)
	}
	_, err := contacts.Create(ctx, b.pool, contacts.ContactInput{Email: "tagged@example.com", Name: "Tagged", Tags: tags})
	require.NoError(t, err)
	_, err = b.pool.Exec(ctx, `UPDATE templates SET html = $2 WHERE id = $1`, c.Steps[0].TemplateID,
		"<p>Hi {{ .Contact.Name }}</p>\n<p>{{ range .Contact.Tags }}{{ range $.Contact.Tags }}{{ range $.Contact.Tags }}x{{ end }}{{ end }}{{ end }}</p>")
	require.NoError(t, err)

	_, err = b.svc.Launch(ctx, c.ID)
	require.NoError(t, err)
	b.waitStatus(t, c.ID, campaigns.StatusFinished, 30*time.Second)

	require.Len(t, b.sink.Messages(), 4, "the untagged contacts are sent to")
	var status, lastError string
	var attempts int
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT d.status, d.last_error, d.attempts FROM deliveries d
		JOIN contacts c ON c.id = d.contact_id WHERE c.email = 'tagged@example.com'`).Scan(&status, &lastError, &attempts))
	require.Equal(t, "failed", status)
	require.Contains(t, lastError, `template "welcome" html: more than 10000 loop iterations`)
	require.Contains(t, lastError, "(line 2)")
	require.Equal(t, 1, attempts, "a budget failure is never retried")

	// The campaign finishes as the last job records its results; the job
	// completes just after.
	require.Eventually(t, func() bool {
		var open int
		require.NoError(t, b.pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind IN ('send', 'send_packed') AND state <> 'completed'`).Scan(&open))
		return open == 0
	}, 30*time.Second, 20*time.Millisecond, "send jobs never completed")
	var retried int
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind IN ('send', 'send_packed')
		AND (attempt > 1 OR coalesce(array_length(errors, 1), 0) > 0)`).Scan(&retried))
	require.Zero(t, retried, "send jobs complete on their first attempt, without errors")
}
