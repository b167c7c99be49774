package segments

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/campaigns/contacts"
)

// TestListCountsEqualRawRows: GET /segments carries each segment's count
// and sendable count, equal to counting the rows by hand, on the SQL path
// and the Go path alike.
func TestListCountsEqualRawRows(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	for i := range 30 {
		in := contacts.ContactInput{Email: fmt.Sprintf("p%d@example.com", i), Name: fmt.Sprintf("P%d", i)}
		if i%3 == 0 {
			in.Tags = []string{"vip"}
		}
		if i%5 == 0 {
			in.Email = fmt.Sprintf("p%d@spam.example", i)
		}
		id := a.mustCreate(t, in)
		if i%7 == 0 {
			require.NoError(t, contacts.Suppress(a.ctx, a.pool, id, contacts.StatusUnsubscribed))
		}
	}
	_, err := contacts.AddSuppression(a.ctx, a.pool, contacts.SuppressionInput{Value: "@spam.example"})
	require.NoError(t, err)
	_, err = contacts.AddSuppression(a.ctx, a.pool, contacts.SuppressionInput{Value: "p4@example.com"})
	require.NoError(t, err)

	// Each rule with the same predicate written by hand over the rows.
	rules := []struct{ name, rule, raw string }{
		{"vips", `has_tag("vip")`, `'vip' = ANY(tags)`},
		{"go path", `len(contact.name) == 2`, `length(name) = 2`},
		{"nobody", `contact.name == "nobody"`, `false`},
	}
	goPath, err := CompileSegment(rules[1].rule)
	require.NoError(t, err)
	require.False(t, goPath.Translatable(), "the second rule runs in Go")
	for _, r := range rules {
		code, body := a.do("POST", "/segments", map[string]string{"name": r.name, "rule": r.rule})
		require.Equal(t, http.StatusCreated, code, body)
	}
	res, err := http.Get(a.url + "/segments")
	require.NoError(t, err)
	defer res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)
	var list struct {
		Items []Listed `json:"items"`
		Total int64    `json:"total"`
	}
	require.NoError(t, json.NewDecoder(res.Body).Decode(&list))
	require.Len(t, list.Items, len(rules))
	require.Equal(t, int64(len(rules)), list.Total)
	for i, r := range rules {
		var count, sendable int64
		require.NoError(t, a.pool.QueryRow(a.ctx, `SELECT count(*) FROM contacts WHERE status <> 'erased' AND `+r.raw).Scan(&count))
		require.NoError(t, a.pool.QueryRow(a.ctx, `SELECT count(*) FROM contacts c WHERE status = 'active' AND `+r.raw+`
			AND NOT EXISTS (SELECT 1 FROM suppressions s WHERE s.kind = 'address' AND s.value = lower(c.email))
			AND NOT EXISTS (SELECT 1 FROM suppressions s WHERE s.kind = 'domain' AND s.value = split_part(lower(c.email), '@', 2))`).Scan(&sendable))
		require.Equal(t, r.name, list.Items[i].Name)
		require.Equal(t, count, list.Items[i].Count, r.name)
		require.Equal(t, sendable, list.Items[i].Sendable, r.name)
		require.Less(t, list.Items[i].Sendable, list.Items[i].Count+1, r.name)
	}
	require.NotZero(t, list.Items[0].Count)
	require.Less(t, list.Items[0].Sendable, list.Items[0].Count, "suppressions are left out of sendable")
}

// TestCountsCachedForTTL: a segment's counts are kept for the TTL (a new
// contact shows after it), and recounted at once when its rule changes.
func TestCountsCachedForTTL(t *testing.T) {
	t.Parallel()
	b := setup(t)
	now := time.Date(2026, 3, 21, 9, 0, 0, 0, time.UTC)
	counts := &Counts{TTL: time.Minute, Now: func() time.Time { return now }}
	b.mustCreate(t, contacts.ContactInput{Email: "a@example.com", Name: "A"})
	s, err := CreateSegment(b.ctx, b.pool, SegmentInput{Name: "all", Rule: "true"})
	require.NoError(t, err)
	fill := func(s Segment) Listed {
		t.Helper()
		out, err := counts.Fill(b.ctx, b.pool, []Segment{s})
		require.NoError(t, err)
		return out[0]
	}
	require.Equal(t, int64(1), fill(s).Count)
	b.mustCreate(t, contacts.ContactInput{Email: "b@example.com", Name: "B"})
	got := fill(s)
	require.Equal(t, int64(1), got.Count, "cached")
	require.Equal(t, now, got.CountedAt)
	now = now.Add(time.Minute)
	require.Equal(t, int64(2), fill(s).Count, "recounted after the TTL")
	s.Rule = `contact.name == "A"`
	require.Equal(t, int64(1), fill(s).Count, "a changed rule is recounted")
}
