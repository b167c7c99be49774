package contacts

import (
	"maps"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

// A send reads its chunk's recipients and their sendability in one
// statement (GetSendableProfiles): on every channel it must let through
// exactly the contacts SendableOn says may be sent to — each status, an
// address or domain suppressed on the channel, on another channel, on
// webhook or on * — with GetProfiles' profile for each, and leave out an
// unknown id.
func TestGetSendableProfilesMatchesSendableOn(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var ids []int64
	add := func(email, status string) int64 {
		id := b.mustCreate(t, ContactInput{Email: email, Name: "N " + email, Attributes: map[string]any{"plan": "pro"}, Tags: []string{"vip"}})
		if status != "" {
			_, err := b.pool.Exec(b.ctx, `UPDATE contacts SET status = $2 WHERE id = $1`, id, status)
			require.NoError(t, err)
		}
		ids = append(ids, id)
		return id
	}
	add("active@example.com", "")
	for _, st := range []string{StatusUnsubscribed, StatusBounced, StatusComplained, StatusErased, "pending"} {
		add(st+"@example.com", st)
	}
	for _, s := range []SuppressionInput{
		{Value: "addr-email@example.com", Channel: ChannelEmail},
		{Value: "addr-sms@example.com", Channel: "sms"},
		{Value: "addr-webhook@example.com", Channel: ChannelWebhook},
		{Value: "addr-all@example.com", Channel: ChannelAll},
		{Value: "blocked.example", Channel: ChannelEmail},
		{Value: "smsblocked.example", Channel: "sms"},
	} {
		_, err := AddSuppression(b.ctx, b.pool, s)
		require.NoError(t, err)
	}
	for _, e := range []string{"addr-email@example.com", "addr-sms@example.com", "addr-webhook@example.com", "addr-all@example.com",
		"someone@blocked.example", "someone@smsblocked.example"} {
		add(e, "")
	}
	ids = append(ids, 424242)

	for _, channel := range []string{ChannelEmail, "sms", "push"} {
		ok, err := SendableOn(b.ctx, b.pool, channel, ids)
		require.NoError(t, err)
		want := slices.Sorted(maps.Keys(ok))
		require.NotEmpty(t, want, channel)
		require.Less(t, len(want), len(ids)-1, "%s: some contact is held back", channel)

		got, err := GetSendableProfiles(b.ctx, b.pool, channel, ids)
		require.NoError(t, err)
		sortByID(got)
		gotIDs := make([]int64, len(got))
		for i, c := range got {
			gotIDs[i] = c.ID
		}
		require.Equal(t, want, gotIDs, channel)

		profiles, err := GetProfiles(b.ctx, b.pool, want)
		require.NoError(t, err)
		sortByID(profiles)
		for i := range profiles {
			require.Equal(t, profiles[i].Profile(), got[i].Profile(), channel)
		}
	}
}
