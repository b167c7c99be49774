package contacts

import (
	"io/fs"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/migrations"
)

// migration031 returns the up and down SQL of migration 031.
func migration031(t *testing.T) (up, down string) {
	t.Helper()
	b, err := fs.ReadFile(migrations.FS(), "031_channel_suppressions.sql")
	require.NoError(t, err)
	up, down, ok := strings.Cut(string(b), "---- create above / drop below ----")
	require.True(t, ok)
	return up, down
}

// Nothing suppressed before migration 031 becomes sendable after it: the
// schema is taken back to 030, suppressions and opted-out contacts are
// made as they were then, and 031 applied again. Old address and domain
// suppressions hold every channel; contacts unsubscribed, bounced or
// complained stay held back from the webhook channels too (email goes on
// reading their status); an active contact is sendable everywhere.
func TestMigration031KeepsSuppressionsSuppressing(t *testing.T) {
	t.Parallel()
	b := setup(t)
	up, down := migration031(t)
	_, err := b.pool.Exec(b.ctx, down)
	require.NoError(t, err)

	ids := map[string]int64{}
	for _, e := range []string{"active@example.com", "unsub@example.com", "bounced@example.com", "listed@example.com", "someone@blocked.example"} {
		var id int64
		require.NoError(t, b.pool.QueryRow(b.ctx, `INSERT INTO contacts (email) VALUES ($1) RETURNING id`, e).Scan(&id))
		ids[e] = id
	}
	_, err = b.pool.Exec(b.ctx, `UPDATE contacts SET status = 'unsubscribed' WHERE email = 'unsub@example.com';
		UPDATE contacts SET status = 'bounced' WHERE email = 'bounced@example.com';
		INSERT INTO suppressions (kind, value) VALUES ('address', 'listed@example.com'), ('domain', 'blocked.example')`)
	require.NoError(t, err)

	_, err = b.pool.Exec(b.ctx, up)
	require.NoError(t, err)

	all := []int64{ids["active@example.com"], ids["unsub@example.com"], ids["bounced@example.com"], ids["listed@example.com"], ids["someone@blocked.example"]}
	for _, channel := range []string{ChannelEmail, "sms", ChannelWebhook} {
		ok, err := SendableOn(b.ctx, b.pool, channel, all)
		require.NoError(t, err)
		require.Equal(t, map[int64]bool{ids["active@example.com"]: true}, ok, "channel %s", channel)
	}
	n, err := CountSendable(b.ctx, b.pool)
	require.NoError(t, err)
	require.EqualValues(t, 1, n)

	// From now on the channels are separate: an sms opt-out holds sms only.
	_, err = AddSuppression(b.ctx, b.pool, SuppressionInput{Value: "active@example.com", Channel: "sms"})
	require.NoError(t, err)
	ok, err := IsSendableOn(b.ctx, b.pool, "sms", ids["active@example.com"])
	require.NoError(t, err)
	require.False(t, ok)
	ok, err = IsSendableOn(b.ctx, b.pool, ChannelEmail, ids["active@example.com"])
	require.NoError(t, err)
	require.True(t, ok)
	_, err = AddSuppression(b.ctx, b.pool, SuppressionInput{Value: "active@example.com", Channel: "Not a channel!"})
	require.ErrorContains(t, err, "channel")
}
