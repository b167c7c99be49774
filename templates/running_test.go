package templates

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/internal/errs"
	"github.com/peykar/peykar/migrations/pgtest"
)

// A running campaign's template cannot change under it; paused, finished
// and draft campaigns do not hold it.
func TestUpdateRefusedWhileARunningCampaignSendsIt(t *testing.T) {
	t.Parallel()
	pool := pgtest.NewPool(t)
	ctx := context.Background()
	tpl, err := Create(ctx, pool, Template{Name: "offer", Subject: "s", HTML: "<p>v1</p>"})
	require.NoError(t, err)
	var campaignID int64
	require.NoError(t, pool.QueryRow(ctx, `INSERT INTO campaigns (name, status) VALUES ('Spring sale', 'running') RETURNING id`).Scan(&campaignID))
	_, err = pool.Exec(ctx, `INSERT INTO campaign_steps (campaign_id, key, position, template_id) VALUES ($1, 'first', 0, $2)`, campaignID, tpl.ID)
	require.NoError(t, err)

	edit := tpl
	edit.HTML = "<p>v2</p>"
	_, err = Update(ctx, pool, edit)
	require.True(t, errs.Is(err, errs.Conflict), "%v", err)
	require.ErrorContains(t, err, `running campaign `)
	require.ErrorContains(t, err, `"Spring sale"`)
	got, err := Get(ctx, pool, tpl.ID)
	require.NoError(t, err)
	require.Equal(t, "<p>v1</p>", got.HTML, "a refused edit changes nothing")

	for _, status := range []string{"paused", "finished", "draft"} {
		_, err = pool.Exec(ctx, `UPDATE campaigns SET status = $2 WHERE id = $1`, campaignID, status)
		require.NoError(t, err)
		edit.HTML = "<p>" + status + "</p>"
		saved, err := Update(ctx, pool, edit)
		require.NoError(t, err, status)
		require.Equal(t, edit.HTML, saved.HTML)
	}

	_, err = Update(ctx, pool, Template{ID: tpl.ID + 1000, Name: "x", Subject: "s", HTML: "<p>x</p>"})
	require.True(t, errs.Is(err, errs.NotFound), "%v", err)
}
