package contacts

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/internal/errs"
)

func TestCreateGetUpdate(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c, err := Create(b.ctx, b.pool, ContactInput{Email: " Sara@Example.COM", Name: "سارا",
		Attributes: map[string]any{"city": "Tehran", "age": 31.0}, Tags: []string{"vip", " vip", ""},
		Consent: &Consent{Source: "signup form", IP: "192.0.2.7"}})
	require.NoError(t, err)
	require.Equal(t, "Sara@example.com", c.Email)
	require.Equal(t, []string{"vip"}, c.Tags)
	require.Equal(t, StatusActive, c.Status)
	require.NotNil(t, c.Consent)
	require.Equal(t, "192.0.2.7", c.Consent.IP)
	require.NotNil(t, c.Consent.At)

	_, err = Create(b.ctx, b.pool, ContactInput{Email: "sara@EXAMPLE.com"})
	var de *errs.Error
	require.ErrorAs(t, err, &de)
	require.Equal(t, errs.Conflict, de.Code)
	require.Equal(t, c.ID, de.Details["id"])

	got, err := Get(b.ctx, b.pool, c.ID)
	require.NoError(t, err)
	require.Equal(t, "Tehran", got.Attributes["city"])
	require.Equal(t, 31.0, got.Attributes["age"])

	other := b.mustCreate(t, ContactInput{Email: "other@example.com"})
	_, err = Update(b.ctx, b.pool, other, ContactInput{Email: "SARA@example.com"})
	require.True(t, errs.Is(err, errs.Conflict), "%v", err)

	up, err := Update(b.ctx, b.pool, c.ID, ContactInput{Email: "sara@example.com", Name: "Sara", Tags: []string{"a"}})
	require.NoError(t, err)
	require.Equal(t, "Sara", up.Name)
	require.Equal(t, map[string]any{}, up.Attributes)
	require.NotNil(t, up.Consent, "consent kept when not given")
	require.False(t, up.UpdatedAt.Before(c.UpdatedAt))

	_, err = Get(b.ctx, b.pool, 999999)
	require.True(t, errs.Is(err, errs.NotFound))
	_, err = Update(b.ctx, b.pool, 999999, ContactInput{Email: "x@example.com"})
	require.True(t, errs.Is(err, errs.NotFound))
	_, err = Create(b.ctx, b.pool, ContactInput{Email: "nope"})
	require.True(t, errs.Is(err, errs.Invalid))
}

func TestGetManyEnsureByEmail(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id1, created, err := EnsureByEmail(b.ctx, b.pool, "New@Shop.example")
	require.NoError(t, err)
	require.True(t, created)
	id2, created, err := EnsureByEmail(b.ctx, b.pool, "new@shop.EXAMPLE")
	require.NoError(t, err)
	require.False(t, created)
	require.Equal(t, id1, id2)
	_, _, err = EnsureByEmail(b.ctx, b.pool, "bad@localhost")
	require.True(t, errs.Is(err, errs.Invalid))

	id3 := b.mustCreate(t, ContactInput{Email: "c@example.com"})
	cs, err := GetMany(b.ctx, b.pool, []int64{id3, id1, 424242})
	require.NoError(t, err)
	require.Len(t, cs, 2)
	sortByID(cs)
	require.Equal(t, []int64{id1, id3}, []int64{cs[0].ID, cs[1].ID})
}

func TestSuppressNeverDowngrades(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id := b.mustCreate(t, ContactInput{Email: "s@example.com"})
	ok, err := IsSendable(b.ctx, b.pool, id)
	require.NoError(t, err)
	require.True(t, ok)

	before, err := Get(b.ctx, b.pool, id)
	require.NoError(t, err)
	require.NoError(t, Suppress(b.ctx, b.pool, id, StatusBounced))
	require.NoError(t, Suppress(b.ctx, b.pool, id, StatusUnsubscribed)) // lower: ignored
	c, err := Get(b.ctx, b.pool, id)
	require.NoError(t, err)
	require.Equal(t, StatusBounced, c.Status)
	require.True(t, c.UpdatedAt.After(before.UpdatedAt) || c.UpdatedAt.Equal(before.UpdatedAt))
	require.NoError(t, Suppress(b.ctx, b.pool, id, StatusComplained))
	c, _ = Get(b.ctx, b.pool, id)
	require.Equal(t, StatusComplained, c.Status)

	ok, err = IsSendable(b.ctx, b.pool, id)
	require.NoError(t, err)
	require.False(t, ok)

	require.True(t, errs.Is(Suppress(b.ctx, b.pool, id, StatusActive), errs.Invalid))
	require.True(t, errs.Is(Suppress(b.ctx, b.pool, id, StatusErased), errs.Invalid))
	require.True(t, errs.Is(Suppress(b.ctx, b.pool, 777777, StatusBounced), errs.NotFound))
	_, err = IsSendable(b.ctx, b.pool, 777777)
	require.True(t, errs.Is(err, errs.NotFound))
}

func TestSuppressionList(t *testing.T) {
	t.Parallel()
	b := setup(t)
	a := b.mustCreate(t, ContactInput{Email: "Someone@Blocked.example"})
	d := b.mustCreate(t, ContactInput{Email: "x@spam.example"})
	ok := b.mustCreate(t, ContactInput{Email: "fine@example.com"})

	sa, err := AddSuppression(b.ctx, b.pool, SuppressionInput{Value: "someone@BLOCKED.example", Reason: "asked by phone"})
	require.NoError(t, err)
	require.Equal(t, SuppressAddress, sa.Kind)
	require.Equal(t, "someone@blocked.example", sa.Value)
	sd, err := AddSuppression(b.ctx, b.pool, SuppressionInput{Value: "@Spam.example"})
	require.NoError(t, err)
	require.Equal(t, SuppressDomain, sd.Kind)
	_, err = AddSuppression(b.ctx, b.pool, SuppressionInput{Value: "spam.example"})
	require.True(t, errs.Is(err, errs.Conflict))
	_, err = AddSuppression(b.ctx, b.pool, SuppressionInput{Kind: "domain", Value: "nodot"})
	require.True(t, errs.Is(err, errs.Invalid))

	for id, want := range map[int64]bool{a: false, d: false, ok: true} {
		got, err := IsSendable(b.ctx, b.pool, id)
		require.NoError(t, err)
		require.Equal(t, want, got, id)
	}

	list, err := ListSuppressions(b.ctx, b.pool, 0, 10)
	require.NoError(t, err)
	require.Len(t, list, 2)
	require.NoError(t, DeleteSuppression(b.ctx, b.pool, sd.ID))
	require.True(t, errs.Is(DeleteSuppression(b.ctx, b.pool, sd.ID), errs.NotFound))
	got, err := IsSendable(b.ctx, b.pool, d)
	require.NoError(t, err)
	require.True(t, got)
}

func TestBumpSent(t *testing.T) {
	t.Parallel()
	b := setup(t)
	x := b.mustCreate(t, ContactInput{Email: "x@example.com"})
	y := b.mustCreate(t, ContactInput{Email: "y@example.com"})
	require.NoError(t, BumpSent(b.ctx, b.pool, []int64{y, x, y}, time.Now()))
	require.NoError(t, BumpSent(b.ctx, b.pool, []int64{x}, time.Now()))
	require.NoError(t, BumpSent(b.ctx, b.pool, nil, time.Now()))
	cx, _ := Get(b.ctx, b.pool, x)
	cy, _ := Get(b.ctx, b.pool, y)
	require.Equal(t, 2, cx.Stats.Sent)
	require.Equal(t, 2, cy.Stats.Sent, "two messages to y in one batch count twice")
}

// A message is built from Profile: GetProfiles, which reads only those
// fields, must give every contact the profile GetMany's whole row gives,
// attributes, tags and an unknown id included.
func TestGetProfilesMatchesGetMany(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ids := []int64{
		b.mustCreate(t, ContactInput{Email: "full@example.com", Name: "Ana Full",
			Attributes: map[string]any{"plan": "pro", "seats": 3.0, "tz": "Europe/Lisbon"}, Tags: []string{"vip", "beta"}}),
		b.mustCreate(t, ContactInput{Email: "bare@example.com"}),
		424242,
	}
	_, err := b.pool.Exec(b.ctx, `INSERT INTO contact_stats (contact_id, sent, opens) VALUES ($1, 4, 2)`, ids[0])
	require.NoError(t, err)
	many, err := GetMany(b.ctx, b.pool, ids)
	require.NoError(t, err)
	profiles, err := GetProfiles(b.ctx, b.pool, ids)
	require.NoError(t, err)
	require.Len(t, profiles, 2)
	sortByID(many)
	sortByID(profiles)
	for i := range many {
		require.Equal(t, many[i].Profile(), profiles[i].Profile())
	}
	require.Equal(t, 4, many[0].Stats.Sent, "GetMany still reads the counters")
}
