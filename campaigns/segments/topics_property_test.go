package segments

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/campaigns/contacts"
	"github.com/peykar/peykar/campaigns/topics"
)

// randomTopicAtom is a condition on contact.topics (or, mixed in, tags).
func randomTopicAtom(r *rand.Rand) string {
	name := []string{"News", "Offers", "news", "None", "خبرنامه"}[r.IntN(5)]
	switch r.IntN(5) {
	case 0:
		return fmt.Sprintf("not (%q in contact.topics)", name)
	case 1:
		return fmt.Sprintf("%q in contact.tags", []string{"t1", "vip"}[r.IntN(2)])
	case 2:
		// not translatable: the Go path, with the SQL prefilter
		return []string{"len(contact.topics) == 0", "len(contact.topics) >= 2", `any(contact.topics, {# startsWith "N"})`}[r.IntN(3)]
	default:
		return fmt.Sprintf("%q in contact.topics", name)
	}
}

func randomTopicRule(r *rand.Rand, depth int) string {
	if depth == 0 || r.IntN(3) == 0 {
		return randomTopicAtom(r)
	}
	op := []string{" && ", " || "}[r.IntN(2)]
	return "(" + randomTopicRule(r, depth-1) + op + randomTopicRule(r, depth-1) + ")"
}

// TestTopicRulesSQLMatchesGo holds `name in contact.topics` equal in SQL
// and in Go on random subscriptions (subscribed, pending, unsubscribed),
// and a campaign's topic restriction (WithTopics) equal on both paths.
func TestTopicRulesSQLMatchesGo(t *testing.T) {
	t.Parallel()
	b := setup(t)
	r := rand.New(rand.NewPCG(20, 26))
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	var ids []int64
	for _, name := range []string{"News", "Offers", "خبرنامه", "Archived"} {
		n := name
		tp, err := topics.Create(b.ctx, b.pool, topics.Input{Name: &n})
		require.NoError(t, err)
		ids = append(ids, tp.ID)
	}
	statuses := []topics.Status{topics.Subscribed, topics.Pending, topics.Unsubscribed}
	for i := range 120 {
		in := contacts.ContactInput{Email: fmt.Sprintf("t%d@example.com", i)}
		if r.IntN(3) == 0 {
			in.Tags = []string{"t1"}
		}
		id := b.mustCreate(t, in)
		for _, tp := range ids {
			if r.IntN(2) == 0 {
				_, err := topics.Set(b.ctx, b.pool, id, tp, statuses[r.IntN(3)], topics.Source{Kind: topics.SourceImport})
				require.NoError(t, err)
			}
		}
	}
	_, err := topics.Archive(b.ctx, b.pool, ids[3], true)
	require.NoError(t, err)

	translated := 0
	for i := range 300 {
		rule := randomTopicRule(r, 2)
		c, err := CompileSegment(rule)
		require.NoError(t, err, rule)
		if i%3 == 0 {
			c = c.WithTopics(ids[:1+r.IntN(2)])
		}
		got, err := matchingIDs(b.ctx, b.pool, c, now, 0, 1000)
		require.NoError(t, err, rule)
		goPath := *c
		goPath.tree, goPath.all, goPath.pre = nil, false, nil
		want, err := matchingIDs(b.ctx, b.pool, &goPath, now, 0, 1000)
		require.NoError(t, err, rule)
		require.True(t, slices.Equal(want, got), "rule %s (topics %v): SQL %v, Go %v", rule, c.Topics(), got, want)
		n, err := count(b.ctx, b.pool, c, now)
		require.NoError(t, err, rule)
		require.Equal(t, int64(len(want)), n, rule)
		if c.Translatable() {
			translated++
		}
	}
	require.Greater(t, translated, 100)

	// Pending and unsubscribed do not count; the exact name does.
	c, err := CompileSegment(`"News" in contact.topics`)
	require.NoError(t, err)
	got, err := matchingIDs(b.ctx, b.pool, c, now, 0, 1000)
	require.NoError(t, err)
	var want []int64
	rows, err := b.pool.Query(b.ctx, `SELECT contact_id FROM contact_topics WHERE topic_id = $1 AND status = 'subscribed' ORDER BY contact_id`, ids[0])
	require.NoError(t, err)
	for rows.Next() {
		var id int64
		require.NoError(t, rows.Scan(&id))
		want = append(want, id)
	}
	require.NoError(t, rows.Err())
	require.NotEmpty(t, want)
	require.Equal(t, want, got)
}
