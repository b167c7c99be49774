package reports_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/campaigns/contacts"
	"github.com/peykar/peykar/campaigns/reports"
	"github.com/peykar/peykar/campaigns/segments"
	"github.com/peykar/peykar/internal/factory"
	"github.com/peykar/peykar/tracking"
)

// TestStandardAudienceHonoursSuppressions: the standard report's audience
// counts what a launch would reach — active contacts whose address and
// domain are not suppressed — with a segment or without one (it used to
// count every active contact without one), and "created" counts every
// contact added in the period, sendable or not (with a segment it used to
// count only the sendable ones). Both are checked against the raw rows,
// for a segment that runs as SQL and one evaluated in Go.
func TestStandardAudienceHonoursSuppressions(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	for i := range 30 {
		domain := "example.com"
		if i%5 == 0 {
			domain = "blocked.example"
		}
		c, err := contacts.Create(ctx, b.pool, contacts.ContactInput{Email: fmt.Sprintf("p%d@%s", i, domain), Name: fmt.Sprintf("P %d", i),
			Tags: []string{fmt.Sprintf("t%d", i%3)}})
		require.NoError(t, err)
		switch {
		case i%7 == 1:
			require.NoError(t, contacts.Suppress(ctx, b.pool, c.ID, contacts.StatusUnsubscribed))
		case i == 29:
			require.NoError(t, contacts.Erase(ctx, b.pool, tracking.EventEraser{}, c.ID))
		case i < 4:
			require.NoError(t, contacts.Backdate(ctx, b.pool, c.ID, time.Now().Add(-40*24*time.Hour)))
		}
	}
	for _, s := range []contacts.SuppressionInput{{Kind: "domain", Value: "blocked.example"}, {Kind: "address", Value: "p3@example.com"}, {Kind: "address", Value: "p8@example.com"}} {
		_, err := contacts.AddSuppression(ctx, b.pool, s)
		require.NoError(t, err)
	}

	// The expected numbers from the raw rows, in Go: a contact is
	// sendable when active and neither its address nor its domain is in
	// the suppressions table.
	suppressed := map[string]bool{}
	rows, err := b.pool.Query(ctx, `SELECT kind || ':' || value FROM suppressions`)
	require.NoError(t, err)
	for rows.Next() {
		var k string
		require.NoError(t, rows.Scan(&k))
		suppressed[k] = true
	}
	require.NoError(t, rows.Err())
	type row struct {
		email, status string
		tags          []string
		recent        bool
	}
	var all []row
	rows, err = b.pool.Query(ctx, `SELECT email_key, status, tags, created_at > now() - interval '10 days' FROM contacts`)
	require.NoError(t, err)
	for rows.Next() {
		var r row
		require.NoError(t, rows.Scan(&r.email, &r.status, &r.tags, &r.recent))
		all = append(all, r)
	}
	require.NoError(t, rows.Err())
	expect := func(in func(row) bool) (size, created int64) {
		for _, r := range all {
			if r.status == contacts.StatusErased || !in(r) {
				continue
			}
			domain := r.email[strings.IndexByte(r.email, '@')+1:]
			if r.status == contacts.StatusActive && !suppressed["address:"+r.email] && !suppressed["domain:"+domain] {
				size++
			}
			if r.recent {
				created++
			}
		}
		return size, created
	}

	sqlSeg := factory.Segment(t, b.pool, factory.SegmentName("t0"), factory.Rule(`"t0" in contact.tags`)).ID
	goSeg := factory.Segment(t, b.pool, factory.SegmentName("go"), factory.Rule(`any(contact.tags, # == "t1" || # == "t0")`)).ID
	rule, err := segments.CompileSegment(`any(contact.tags, # == "t1" || # == "t0")`)
	require.NoError(t, err)
	require.False(t, rule.Translatable(), "the second segment exercises the Go path")

	from := time.Now().UTC().AddDate(0, 0, -7).Format(time.DateOnly)
	to := time.Now().UTC().AddDate(0, 0, 1).Format(time.DateOnly)
	for _, tc := range []struct {
		query string
		in    func(row) bool
	}{
		{"", func(row) bool { return true }},
		{"&segment_id=" + itoa(sqlSeg), func(r row) bool { return hasTag(r.tags, "t0") }},
		{"&segment_id=" + itoa(goSeg), func(r row) bool { return hasTag(r.tags, "t0") || hasTag(r.tags, "t1") }},
	} {
		code, body := b.body(t, "/reports/standard?from="+from+"&to="+to+tc.query)
		require.Equal(t, http.StatusOK, code, body)
		var s reports.Standard
		require.NoError(t, json.Unmarshal([]byte(body), &s))
		size, created := expect(tc.in)
		require.Equal(t, size, s.Audience.Size, "sendable now %q", tc.query)
		require.Equal(t, created, s.Audience.Created, "created in the period %q", tc.query)
		var days int64
		for _, d := range s.Days {
			days += d.Created
		}
		require.Equal(t, created, days, "the day rows add up to the card")
		require.Less(t, s.Audience.Size, s.Audience.Created, "suppressed members count as created, not as sendable")
	}
	n, err := contacts.CountSendable(ctx, b.pool)
	require.NoError(t, err)
	size, _ := expect(func(row) bool { return true })
	require.Equal(t, size, n)
}

func hasTag(tags []string, tag string) bool {
	for _, x := range tags {
		if x == tag {
			return true
		}
	}
	return false
}
