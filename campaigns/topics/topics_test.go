package topics_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/campaigns/topics"
	"github.com/peykar/peykar/internal/errs"
	"github.com/peykar/peykar/internal/factory"
	"github.com/peykar/peykar/migrations/pgtest"
)

func TestQueriesPrepare(t *testing.T) {
	t.Parallel()
	pgtest.CheckQueries(t, topics.Queries)
}

func ptr[T any](v T) *T { return &v }

func TestTopicCRUD(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.NewPool(t)

	news, err := topics.Create(ctx, pool, topics.Input{Name: ptr(" News "), Description: ptr("Weekly"), Public: ptr(true)})
	require.NoError(t, err)
	require.Equal(t, "News", news.Name)
	require.True(t, news.Public)

	_, err = topics.Create(ctx, pool, topics.Input{Name: ptr("news")})
	require.True(t, errs.Is(err, errs.Conflict), "a live name is unique case-insensitively: %v", err)
	_, err = topics.Create(ctx, pool, topics.Input{Name: ptr("  ")})
	require.True(t, errs.Is(err, errs.Invalid), "%v", err)

	upd, err := topics.Update(ctx, pool, news.ID, topics.Input{Public: ptr(false)})
	require.NoError(t, err)
	require.Equal(t, "Weekly", upd.Description, "a field left out keeps its value")
	require.False(t, upd.Public)

	_, err = topics.Archive(ctx, pool, news.ID, true)
	require.NoError(t, err)
	again, err := topics.Create(ctx, pool, topics.Input{Name: ptr("News")})
	require.NoError(t, err, "an archived topic's name is free")
	live, err := topics.List(ctx, pool, false, false)
	require.NoError(t, err)
	require.Len(t, live, 1)
	require.Equal(t, again.ID, live[0].ID)
	_, err = topics.Archive(ctx, pool, news.ID, false)
	require.True(t, errs.Is(err, errs.Conflict), "unarchiving into a taken name: %v", err)

	_, err = topics.ByNames(ctx, pool, "topics", []string{"NEWS", "Nope"})
	require.ErrorContains(t, err, `no topic named "Nope"`)
	_, err = topics.ByIDs(ctx, pool, "topic_ids", []int64{again.ID, 999})
	require.ErrorContains(t, err, "no topic with id 999")

	require.NoError(t, topics.Delete(ctx, pool, again.ID))
	require.True(t, errs.Is(topics.Delete(ctx, pool, again.ID), errs.NotFound))
}

func TestSetRecordsEachChangeOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	c := factory.Contact(t, pool)
	news, err := topics.Create(ctx, pool, topics.Input{Name: ptr("News"), Public: ptr(true)})
	require.NoError(t, err)
	form := topics.Source{Kind: topics.SourceForm, IP: "::ffff:192.0.2.7", UserAgent: "Firefox", Detail: map[string]any{"form_id": 3}}

	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		changed, err := topics.Set(ctx, tx, c.ID, news.ID, topics.Pending, form)
		require.True(t, changed)
		return err
	})
	require.NoError(t, err)
	changed, err := topics.Set(ctx, pool, c.ID, news.ID, topics.Pending, form)
	require.NoError(t, err)
	require.False(t, changed, "the same status again changes nothing")
	changed, err = topics.Set(ctx, pool, c.ID, news.ID, topics.Subscribed, topics.Source{Kind: topics.SourceForm, IP: "192.0.2.7"})
	require.NoError(t, err)
	require.True(t, changed)
	require.NoError(t, topics.Record(ctx, pool, c.ID, topics.Consent{Channel: "sms", Change: topics.ChangeSuppressed, Source: topics.Source{Kind: topics.SourcePreferences}}))

	subs, err := topics.ForContact(ctx, pool, c.ID)
	require.NoError(t, err)
	require.Len(t, subs, 1)
	require.Equal(t, topics.Subscribed, subs[0].Status)
	require.Equal(t, "form", subs[0].Source)

	hist, err := topics.History(ctx, pool, c.ID, 0, 10)
	require.NoError(t, err)
	require.Len(t, hist, 3, "pending, confirmed, sms suppressed; the repeat left no record")
	require.Equal(t, []string{"suppressed", "confirmed", "pending"}, []string{hist[0].Change, hist[1].Change, hist[2].Change})
	require.Equal(t, "sms", hist[0].Channel)
	require.Nil(t, hist[0].TopicID)
	require.Equal(t, news.ID, *hist[2].TopicID)
	require.Equal(t, "192.0.2.7", *hist[2].IP, "a mapped IPv4 is stored as IPv4")
	require.Equal(t, "Firefox", hist[2].UserAgent)
	require.InDelta(t, 3, hist[2].Detail["form_id"], 0)

	page2, err := topics.History(ctx, pool, c.ID, hist[0].ID, 1)
	require.NoError(t, err)
	require.Equal(t, hist[1].ID, page2[0].ID, "keyset: the page after the newest")

	list, err := topics.List(ctx, pool, true, false)
	require.NoError(t, err)
	require.Equal(t, topics.Counts{Subscribed: 1}, *list[0].Counts)

	require.True(t, errs.Is(topics.Delete(ctx, pool, news.ID), errs.Conflict), "a topic with history is archived, not deleted")
	_, err = topics.Set(ctx, pool, c.ID, 999, topics.Subscribed, form)
	require.True(t, errs.Is(err, errs.NotFound), "%v", err)
	_, err = topics.Set(ctx, pool, c.ID, news.ID, "maybe", form)
	require.True(t, errs.Is(err, errs.Invalid))
	require.Error(t, topics.Record(ctx, pool, c.ID, topics.Consent{Channel: "SMS!", Change: "x", Source: form}))

	require.NoError(t, topics.Erase(ctx, pool, c.ID))
	hist, err = topics.History(ctx, pool, c.ID, 0, 10)
	require.NoError(t, err)
	require.Len(t, hist, 3, "erasure keeps that consent changed")
	for _, r := range hist {
		require.Nil(t, r.IP)
		require.Empty(t, r.UserAgent)
		require.Nil(t, r.Detail)
	}
	subs, err = topics.ForContact(ctx, pool, c.ID)
	require.NoError(t, err)
	require.Empty(t, subs)
}
