package segments

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/campaigns/contacts"
)

// TestCountSendable counts the audience a launch would reach, on the SQL
// and the Go path alike: suppressed addresses and domains are left out,
// the segment's own count keeps them.
func TestCountSendable(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.mustCreate(t, contacts.ContactInput{Email: "someone@blocked.example", Name: "Fay"})
	b.mustCreate(t, contacts.ContactInput{Email: "x@spam.example", Name: "Fred"})
	b.mustCreate(t, contacts.ContactInput{Email: "fine@example.com", Name: "Fiona"})
	b.mustCreate(t, contacts.ContactInput{Email: "other@example.com", Name: "Omid"})
	_, err := contacts.AddSuppression(b.ctx, b.pool, contacts.SuppressionInput{Value: "someone@blocked.example"})
	require.NoError(t, err)
	_, err = contacts.AddSuppression(b.ctx, b.pool, contacts.SuppressionInput{Value: "@spam.example"})
	require.NoError(t, err)

	for _, tc := range []struct {
		rule     string
		sql      bool
		matching int64
		sendable int64
	}{
		{`contact.name startsWith "F"`, true, 3, 1},
		{`len(contact.name) == 4 || contact.name == "Fiona"`, false, 3, 2}, // Fred (suppressed), Fiona, Omid
		{``, true, 4, 2},
	} {
		c, err := CompileSegment(tc.rule)
		require.NoError(t, err)
		require.Equal(t, tc.sql, c.Translatable(), tc.rule)
		n, err := Count(b.ctx, b.pool, c)
		require.NoError(t, err)
		require.Equal(t, tc.matching, n, tc.rule)
		s, err := CountSendable(b.ctx, b.pool, c)
		require.NoError(t, err)
		require.Equal(t, tc.sendable, s, tc.rule)
	}
}
