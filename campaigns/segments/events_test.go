package segments

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/campaigns/contacts"
	"github.com/peykar/peykar/internal/errs"
)

// eventPlant is a small audience with events and engagement around now.
type eventPlant struct {
	now     time.Time
	ids     map[string]int64 // contact by letter
	nowruz  int64            // the "Nowruz sale" campaign
	spring  int64            // campaign 12
	letters []string
}

// plantEvents stores contacts A–I with transactions on and around the
// window edges, and deliveries of two campaigns with opens and clicks.
func plantEvents(t *testing.T, b bundle) eventPlant {
	t.Helper()
	p := eventPlant{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC), ids: map[string]int64{}}
	for _, l := range []string{"A", "B", "C", "D", "E", "F", "G", "H", "I"} {
		p.ids[l] = b.mustCreate(t, contacts.ContactInput{Email: strings.ToLower(l) + "@example.com"})
		p.letters = append(p.letters, l)
	}
	day := 24 * time.Hour
	ago := func(d time.Duration) time.Time { return p.now.Add(-d) }
	ev := func(l, typ string, value float64, at time.Time, attrs map[string]any) contacts.TransactionRow {
		return contacts.TransactionRow{ContactID: p.ids[l], Type: typ, Value: value, Currency: "EUR", Attributes: attrs, OccurredAt: at}
	}
	_, err := contacts.InsertTransactions(b.ctx, b.pool, []contacts.TransactionRow{
		ev("A", "cart_abandoned", 0, ago(2*day), nil),
		ev("B", "cart_abandoned", 0, ago(2*day), nil),
		ev("B", "purchase", 200, ago(3*day), map[string]any{"items": 2.0}),
		ev("B", "purchase", 50, ago(day), map[string]any{"items": "two"}),
		ev("C", "cart_abandoned", 0, ago(7*day), nil),             // exactly on the window's edge: in
		ev("D", "cart_abandoned", 0, ago(7*day+time.Second), nil), // just outside
		ev("E", "cart_abandoned", 0, ago(day), nil),
		ev("E", "purchase", 150, ago(8*day), map[string]any{"sku": "A-1"}), // outside 7d, still the last purchase
		ev("F", "cart_abandoned", 0, p.now.Add(time.Hour), nil),            // after now: not yet
		ev("G", "purchase", 120, p.now.Add(time.Hour), nil),                // after now: not the last yet
		ev("G", "purchase", 80, ago(5*day), nil),
		ev("H", "purchase", 90, ago(4*day), nil),
		ev("H", "purchase", 130, ago(4*day), map[string]any{"items": 3.0}), // same time, higher id: the last
	})
	require.NoError(t, err)
	// Campaigns and deliveries: set-based plants of states that only a
	// launch, a send and the tracking writer produce (a test of the
	// segment language, not of them).
	require.NoError(t, b.pool.QueryRow(b.ctx, `INSERT INTO campaigns (name) VALUES ('Nowruz sale') RETURNING id`).Scan(&p.nowruz))
	require.NoError(t, b.pool.QueryRow(b.ctx, `INSERT INTO campaigns (id, name) VALUES (12, 'Spring') RETURNING id`).Scan(&p.spring))
	deliver := func(camp int64, l string, open, click *time.Time) {
		_, err := b.pool.Exec(b.ctx, `INSERT INTO deliveries (campaign_id, step, contact_id, status, sent_at, first_open_at, first_click_at)
			VALUES ($1, 'main', $2, 'sent', $3, $4, $5)`, camp, p.ids[l], ago(3*day), open, click)
		require.NoError(t, err)
	}
	at := func(x time.Time) *time.Time { return &x }
	deliver(p.nowruz, "A", at(ago(time.Hour)), nil)
	deliver(p.nowruz, "B", nil, nil)
	deliver(p.nowruz, "C", at(p.now.Add(time.Hour)), nil) // opens after now: not yet
	deliver(p.nowruz, "E", at(ago(2*day)), at(ago(2*day)))
	deliver(p.spring, "A", at(ago(day)), at(ago(day)))
	deliver(p.spring, "E", at(ago(day)), nil)
	return p
}

// letters names the ids of the plant.
func (p eventPlant) lettersOf(ids []int64) string {
	var out []string
	for _, id := range ids {
		for _, l := range p.letters {
			if p.ids[l] == id {
				out = append(out, l)
			}
		}
	}
	return strings.Join(out, "")
}

// TestEventConditions runs the examples and the window edges on
// both paths, at an injected now.
func TestEventConditions(t *testing.T) {
	t.Parallel()
	b := setup(t)
	p := plantEvents(t, b)
	for _, tc := range []struct {
		rule, want string
		sql        bool // runs as one SQL WHERE clause
	}{
		{`events.count("cart_abandoned", "7d") > 0 && events.count("purchase", "7d") == 0`, "ACE", true},
		{`events.count("cart_abandoned", "7d") >= 1`, "ABCE", true},
		{`events.count("cart_abandoned", "168h") == 1`, "ABCE", true},
		{`events.count("cart_abandoned", "1w") > 0`, "ABCE", true},
		{`events.count("cart_abandoned", "10080m") > 0`, "ABCE", true},
		{`events.count("cart_abandoned", "6d") > 0`, "ABE", true},
		{`events.count("cart_abandoned", "8d") > 0`, "ABCDE", true},
		{`events.count("purchase", "30d") >= 2`, "BH", true},
		{`events.count("purchase", "30d") in [1]`, "EG", true},
		{`events.last("purchase").value > 100`, "EH", true},
		{`not (events.last("purchase").value > 100)`, "ABCDFGI", true},
		{`events.last("purchase")?.value > 100`, "EH", true},
		{`events.last("purchase") == nil`, "ACDFI", true},
		{`events.last("purchase") != nil && events.last("purchase").currency == "EUR"`, "BEGH", true},
		{`events.last("purchase").at < date("2026-02-25")`, "ACDEFGI", true},
		{`days_since(events.last("purchase").at) <= 4`, "BH", true},
		{`events.sum("purchase", "value", "7d") >= 250`, "B", true},
		{`events.sum("purchase", "value", "30d") == 220`, "H", true},
		{`events.sum("purchase", "items", "30d") == 5`, "", true},
		{`events.sum("purchase", "items", "30d") == 2`, "B", true},
		{`events.sum("purchase", "items", "30d") > 2.5`, "H", true},
		{`events.last("purchase").attributes.sku == "A-1"`, "E", false},
		{`events.last("purchase").attributes.items > 2`, "H", false},
		{`opened("Nowruz sale")`, "AE", true},
		{`clicked(12)`, "A", true},
		{`opened(12) && !clicked(12)`, "E", true},
		{`clicked("Nowruz sale") || clicked("Spring")`, "AE", true},
		{`events.count("purchase", "30d") > stats.opens`, "BEGH", false},
	} {
		c, err := CompileSegment(tc.rule)
		require.NoError(t, err, tc.rule)
		require.NoError(t, c.CheckCampaigns(b.ctx, b.pool), tc.rule)
		require.Equal(t, tc.sql, c.Translatable(), tc.rule)
		got, err := matchingIDs(b.ctx, b.pool, c, p.now, 0, 100)
		require.NoError(t, err, tc.rule)
		require.Equal(t, tc.want, p.lettersOf(got), tc.rule)
		goPath := *c
		goPath.tree, goPath.all, goPath.pre = nil, false, nil
		got, err = matchingIDs(b.ctx, b.pool, &goPath, p.now, 0, 100)
		require.NoError(t, err, tc.rule)
		require.Equal(t, tc.want, p.lettersOf(got), "Go path: "+tc.rule)
		n, err := count(b.ctx, b.pool, c, p.now)
		require.NoError(t, err, tc.rule)
		require.Equal(t, int64(len(tc.want)), n, tc.rule)
		page, err := MatchPageAt(b.ctx, b.pool, &goPath, p.now, 0, 100)
		require.NoError(t, err, tc.rule)
		require.Equal(t, tc.want, p.lettersOf(page.IDs), "Go page: "+tc.rule)
		page, err = MatchPageAt(b.ctx, b.pool, c, p.now, 0, 100) // the launch's walk
		require.NoError(t, err, tc.rule)
		require.Equal(t, tc.want, p.lettersOf(page.IDs), "page: "+tc.rule)
		n, err = countParallel(b.ctx, b.pool, &goPath, p.now, 3, 0)
		require.NoError(t, err, tc.rule)
		require.Equal(t, int64(len(tc.want)), n, "Go count in parts: "+tc.rule)
	}
	// The clock decides: an hour later F's cart and G's purchase have happened.
	c, err := CompileSegment(`events.count("cart_abandoned", "7d") > 0 && events.last("purchase").value > 100`)
	require.NoError(t, err)
	got, err := matchingIDs(b.ctx, b.pool, c, p.now.Add(time.Hour), 0, 100)
	require.NoError(t, err)
	require.Equal(t, "E", p.lettersOf(got))
	c, err = CompileSegment(`events.last("purchase").value > 100`)
	require.NoError(t, err)
	got, err = matchingIDs(b.ctx, b.pool, c, p.now.Add(time.Hour), 0, 100)
	require.NoError(t, err)
	require.Equal(t, "EGH", p.lettersOf(got))
}

// TestEventConditionErrors: mistakes are refused when the segment is
// saved, with their position.
func TestEventConditionErrors(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, name := range []string{"Nowruz sale", "Twice", "Twice"} {
		_, err := b.pool.Exec(b.ctx, `INSERT INTO campaigns (name) VALUES ($1)`, name)
		require.NoError(t, err)
	}
	for _, tc := range []struct {
		rule, at, msg string
	}{
		{`events.count("purchase", "7x") > 0`, `"7x"`, `the window "7x" is not a duration`},
		{`events.count("purchase", "0d") > 0`, `"0d"`, `longer than 0`},
		{`events.sum("purchase", "value", "99999999d") > 0`, `"99999999d"`, `not a duration`},
		{`events.count(contact.name, "7d") > 0`, `contact.name`, `written out as strings`},
		{`events.last("") == nil`, `""`, `empty string`},
		{`opened(contact.attributes.campaign)`, `contact.attributes.campaign`, `campaign id`},
		{`opened(0)`, `0`, `no campaign #0`},
		{`stats.opens > 0 && events == nil`, `events`, `events is used as`},
		{`events.count("purchase") > 0`, `count`, `not enough arguments`},
		{`events.nope("purchase") > 0`, `nope`, ``},
	} {
		_, err := CompileSegment(tc.rule)
		requirePositioned(t, tc.rule, err, tc.at, tc.msg)
	}
	for _, tc := range []struct {
		rule, at, msg string
	}{
		{`has_tag("x") || opened("No such campaign")`, `"No such campaign"`, `no campaign is named "No such campaign"`},
		{`clicked(999)`, `999`, `there is no campaign #999`},
		{`opened("Nowruz sale") && clicked("Twice")`, `"Twice"`, `2 campaigns are named "Twice" (#2, #3)`},
	} {
		c, err := CompileSegment(tc.rule)
		require.NoError(t, err, tc.rule)
		requirePositioned(t, tc.rule, c.CheckCampaigns(b.ctx, b.pool), tc.at, tc.msg)
		_, err = CreateSegment(b.ctx, b.pool, SegmentInput{Name: "x", Rule: tc.rule})
		requirePositioned(t, tc.rule, err, tc.at, tc.msg)
	}
	_, err := CreateSegment(b.ctx, b.pool, SegmentInput{Name: "ok", Rule: `opened("Nowruz sale") || clicked(1)`})
	require.NoError(t, err)
}

// requirePositioned checks err is an invalid-rule error placed at the
// first occurrence of at in rule, whose message contains msg.
func requirePositioned(t *testing.T, rule string, err error, at, msg string) {
	t.Helper()
	var e *errs.Error
	require.ErrorAs(t, err, &e, rule)
	require.Equal(t, errs.Invalid, e.Code, rule)
	require.Equal(t, "rule", e.Field, rule)
	require.Contains(t, e.Message, msg, rule)
	want := strings.Index(rule, at)
	require.GreaterOrEqual(t, want, 0, rule)
	require.Equal(t, len([]rune(rule[:want]))+1, e.Position, fmt.Sprintf("%s: %s", rule, e.Message))
}
