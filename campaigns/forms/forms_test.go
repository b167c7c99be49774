package forms_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/campaigns/forms"
	"github.com/peykar/peykar/campaigns/topics"
	"github.com/peykar/peykar/internal/errs"
	"github.com/peykar/peykar/migrations/pgtest"
)

func TestQueriesPrepare(t *testing.T) {
	t.Parallel()
	pgtest.CheckQueries(t, forms.Queries)
}

func ptr[T any](v T) *T { return &v }

// TestFormValidation: a form's definition is normalised (email first, no
// duplicates, double opt-in on by default) and every bad field is named.
func TestFormValidation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.NewPool(t)
	news, err := topics.Create(ctx, db, topics.Input{Name: ptr("News"), Public: ptr(true)})
	require.NoError(t, err)
	f, err := forms.Create(ctx, db, forms.Input{Name: " Footer ", Fields: []string{"name", "attr.city", "name"}, TopicIDs: []int64{news.ID}})
	require.NoError(t, err)
	require.Equal(t, "Footer", f.Name)
	require.Equal(t, []string{"email", "name", "attr.city"}, f.Fields)
	require.True(t, f.DoubleOptIn)
	require.Nil(t, f.RedirectURL)
	require.Equal(t, "en", f.Language)
	require.Equal(t, []string{"city"}, f.AttrFields())

	_, err = forms.Create(ctx, db, forms.Input{Name: "", Fields: []string{"phone"}, TopicIDs: []int64{news.ID + 99},
		RedirectURL: ptr("javascript:alert(1)"), Language: "de"})
	fields := map[string]bool{}
	for _, e := range errs.All(err) {
		fields[e.Field] = true
	}
	require.Equal(t, map[string]bool{"name": true, "fields": true, "topic_ids": true, "redirect_url": true, "language": true}, fields, err)

	for _, bad := range []string{"ftp://x.example/", "https://user:pw@x.example/", "//x.example", "https://"} {
		_, err := forms.Create(ctx, db, forms.Input{Name: "x", RedirectURL: ptr(bad)})
		require.True(t, errs.Is(err, errs.Invalid), bad)
	}
	f, err = forms.Patch(ctx, db, f.ID, []byte(`{"redirect_url":"https://shop.example/thanks","double_opt_in":false}`))
	require.NoError(t, err)
	require.Equal(t, "https://shop.example/thanks", *f.RedirectURL)
	require.False(t, f.DoubleOptIn)
	require.Equal(t, []string{"email", "name", "attr.city"}, f.Fields, "fields not given stay")
	f, err = forms.Patch(ctx, db, f.ID, []byte(`{"redirect_url":null}`))
	require.NoError(t, err)
	require.Nil(t, f.RedirectURL)
	require.NoError(t, forms.Delete(ctx, db, f.ID))
	require.True(t, errs.Is(forms.Delete(ctx, db, f.ID), errs.NotFound))
}
