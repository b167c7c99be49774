package campaigns

import (
	"context"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/internal/errs"
	"github.com/peykar/peykar/migrations/pgtest"
)

// Get reads a campaign in one statement (get_campaign_full) where it read
// it in four (the row, its steps, its topics, its experiment), as
// GetForUpdate still does: both must give the same campaign — steps in
// order with a draft step's missing template as 0, topics, an A/B test
// and its variants, and a campaign with none of these (empty steps and
// topics, no test) — and an unknown id is errs.NotFound.
func TestGetMatchesTheStatementByStatementRead(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	var tpl1, tpl2, tpl3, topic1, topic2, bare int64
	for _, p := range []*int64{&tpl1, &tpl2, &tpl3} {
		require.NoError(t, pool.QueryRow(ctx, `INSERT INTO templates (name, subject, html) VALUES ('t', 's', '<p>h</p>') RETURNING id`).Scan(p))
	}
	for i, p := range []*int64{&topic1, &topic2} {
		require.NoError(t, pool.QueryRow(ctx, `INSERT INTO topics (name) VALUES ($1) RETURNING id`, fmt.Sprint("news ", i)).Scan(p))
	}
	full := Campaign{Name: "full", Channel: ChannelEmail, From: Address{Name: "Shop", Email: "news@shop.example"},
		Steps: []Step{
			{Key: "main", TemplateID: tpl1, Variants: []Variant{{Key: "A", TemplateID: tpl1}, {Key: "B", TemplateID: tpl3, Subject: "B!", FromName: "Shop B"}}},
			{Key: "offer", TemplateID: tpl2},
			{Key: "draft"}, // no template yet: stored as NULL
		},
		Rules:    []Rule{{Name: "r", On: "click", Actions: []Action{{Type: "send", Step: "offer", Delay: "48h"}}}},
		TopicIDs: []int64{topic2, topic1},
		ABTest:   &ABTest{Step: "main", TestShare: 0.2, Metric: ABMetricCTR, Duration: "4h", Winner: "manual"},
	}
	variantsOnly := Campaign{Name: "variants without a test", Channel: ChannelEmail,
		Steps: []Step{{Key: "main", TemplateID: tpl1, Variants: []Variant{{Key: "A", TemplateID: tpl1}, {Key: "B", TemplateID: tpl2}}}}}
	for _, c := range []*Campaign{&full, &variantsOnly} {
		require.NoError(t, pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error { return insert(ctx, tx, c) }))
	}
	require.NoError(t, pool.QueryRow(ctx, `INSERT INTO campaigns (name) VALUES ('bare') RETURNING id`).Scan(&bare))

	for _, id := range []int64{full.ID, variantsOnly.ID, bare} {
		got, err := Get(ctx, pool, id)
		require.NoError(t, err)
		var want Campaign
		require.NoError(t, pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) (err error) {
			want, err = GetForUpdate(ctx, tx, id)
			return err
		}))
		require.Equal(t, want, got, "campaign %d", id)
	}

	got, err := Get(ctx, pool, full.ID)
	require.NoError(t, err)
	require.Equal(t, []Step{full.Steps[0], full.Steps[1], {Key: "draft", TemplateID: 0}}, got.Steps)
	require.Equal(t, []int64{topic1, topic2}, got.TopicIDs)
	require.Equal(t, full.ABTest, got.ABTest)
	require.Equal(t, full.Rules, got.Rules)
	bareGot, err := Get(ctx, pool, bare)
	require.NoError(t, err)
	require.Equal(t, []Step{}, bareGot.Steps, "no steps: an empty list, as the API shows it")
	require.Equal(t, []int64{}, bareGot.TopicIDs)
	require.Nil(t, bareGot.ABTest)

	_, err = Get(ctx, pool, bare+1000)
	require.True(t, errs.Is(err, errs.NotFound), "got %v", err)
}
