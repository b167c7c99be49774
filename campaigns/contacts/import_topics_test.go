package contacts

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/campaigns/topics"
)

// The topics column subscribes (source import, one consent record each),
// rejects a line naming an unknown topic with its number, never
// re-subscribes someone who unsubscribed, and in skip-existing mode leaves
// existing contacts alone; a repeat in a later batch adds its topics.
func TestImportTopicsColumn(t *testing.T) {
	t.Parallel()
	b := setup(t)
	news, offers := newTopic(t, b, "News"), newTopic(t, b, "Offers")
	left := b.mustCreate(t, ContactInput{Email: "left@example.com"})
	_, err := topics.Set(b.ctx, b.pool, left, news, topics.Unsubscribed, topics.Source{Kind: topics.SourcePreferences})
	require.NoError(t, err)
	old := b.mustCreate(t, ContactInput{Email: "old@example.com"})

	csv := "email,name,topics\n" +
		"a@example.com,A,news|Offers\n" + // 2: both
		"b@example.com,B,Nope\n" + // 3: rejected
		"left@example.com,L,News\n" + // 4: stays unsubscribed
		"c@example.com,C,\n" + // 5: none
		"A@example.com,,News\n" // 6: repeat, nothing new
	res, err := importCSV(b.ctx, b.pool, strings.NewReader(csv), ImportOptions{Mode: ModeUpsert, TagSeparator: "pipe"}, 2, 2, nil)
	require.NoError(t, err)
	require.Len(t, res.Rejected, 1)
	require.Equal(t, 3, res.Rejected[0].Line)
	require.Contains(t, res.Rejected[0].Reason, `no topic named "Nope"`)

	status := func(email string) map[int64]topics.Status {
		t.Helper()
		var id int64
		require.NoError(t, b.pool.QueryRow(b.ctx, `SELECT id FROM contacts WHERE email = $1`, email).Scan(&id))
		subs, err := topics.ForContact(b.ctx, b.pool, id)
		require.NoError(t, err)
		out := map[int64]topics.Status{}
		for _, s := range subs {
			out[s.TopicID] = s.Status
			if email == "a@example.com" {
				require.Equal(t, "import", s.Source)
			}
		}
		return out
	}
	require.Equal(t, map[int64]topics.Status{news: topics.Subscribed, offers: topics.Subscribed}, status("a@example.com"))
	require.Equal(t, map[int64]topics.Status{news: topics.Unsubscribed}, status("left@example.com"), "an import never re-subscribes")
	require.Empty(t, status("c@example.com"))
	var n int
	require.NoError(t, b.pool.QueryRow(b.ctx, `SELECT count(*) FROM consent_records WHERE source = 'import'`).Scan(&n))
	require.Equal(t, 2, n, "one record per subscription made")

	csv = "email,topics\nold@example.com,News\nnew@example.com,News\n"
	_, err = importCSV(b.ctx, b.pool, strings.NewReader(csv), ImportOptions{Mode: ModeSkipExisting}, 10, 1, nil)
	require.NoError(t, err)
	subs, err := topics.ForContact(b.ctx, b.pool, old)
	require.NoError(t, err)
	require.Empty(t, subs, "skip-existing leaves an existing contact's topics alone")
	require.Equal(t, map[int64]topics.Status{news: topics.Subscribed}, status("new@example.com"))
}
