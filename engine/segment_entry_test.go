package engine_test

import (
	"context"
	"maps"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/campaigns"
	"github.com/peykar/peykar/campaigns/contacts"
	"github.com/peykar/peykar/engine"
	"github.com/peykar/peykar/internal/httpapi"
)

// segmentJourney turns c into a segment_entry campaign on a new segment
// with rule, with exits and entry delay as given, and launches it.
func (b *bundle) segmentJourney(t *testing.T, c campaigns.Campaign, rule, delay string, exits ...campaigns.Exit) campaigns.Campaign {
	t.Helper()
	ctx := context.Background()
	var segID int64
	require.NoError(t, b.pool.QueryRow(ctx, `INSERT INTO segments (name, rule) VALUES ('journey', $1) RETURNING id`, rule).Scan(&segID))
	c.SegmentID = &segID
	c.Entry = campaigns.Entry{Type: campaigns.EntrySegmentEntry, Delay: delay}
	c.Exit = exits
	require.NoError(t, b.svc.Update(ctx, &c))
	launched, err := b.svc.Launch(ctx, c.ID)
	require.NoError(t, err)
	b.waitStatus(t, c.ID, campaigns.StatusRunning, 10*time.Second)
	return launched
}

func (b *bundle) moveTo(t *testing.T, contactID int64, city string) {
	t.Helper()
	_, err := contacts.Patch(context.Background(), b.pool, contactID, contacts.ContactPatch{Attributes: map[string]any{"city": city}})
	require.NoError(t, err)
}

// entries returns the campaign's entries as contact id → status.
func (b *bundle) entries(t *testing.T, campaignID int64) map[int64]string {
	t.Helper()
	rows, err := b.pool.Query(context.Background(), `SELECT contact_id, status || ':' || exit_reason FROM campaign_entries WHERE campaign_id = $1`, campaignID)
	require.NoError(t, err)
	out := map[int64]string{}
	for rows.Next() {
		var id int64
		var s string
		require.NoError(t, rows.Scan(&id, &s))
		out[id] = s
	}
	require.NoError(t, rows.Err())
	return out
}

// TestSegmentEntryReachesContactsWhoJoinAfterLaunch: a member at launch
// does not enter; a contact changed to match (per-contact check) and one
// created matching (the periodic check) do, once each.
func TestSegmentEntryReachesContactsWhoJoinAfterLaunch(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	ctx := context.Background()
	c := b.seed(t, 2, 0)
	atLaunch, changed := b.contactID(t, "user0@example.com"), b.contactID(t, "user1@example.com")
	b.moveTo(t, atLaunch, "Shiraz")
	c = b.segmentJourney(t, c, `contact.attributes.city == "Shiraz"`, "")

	require.NoError(t, b.eng.SyncSegmentEntries(ctx), "baseline")
	require.Empty(t, b.entries(t, c.ID), "a member at launch does not enter")

	b.moveTo(t, changed, "Shiraz")
	require.NoError(t, b.eng.CheckContact(ctx, changed))
	created, err := contacts.Create(ctx, b.pool, contacts.ContactInput{Email: "new@example.com", Attributes: map[string]any{"city": "Shiraz"}})
	require.NoError(t, err)
	require.NoError(t, b.eng.SyncSegmentEntries(ctx))
	require.NoError(t, b.eng.SyncSegmentEntries(ctx), "a second look changes nothing")
	require.NoError(t, b.eng.CheckContact(ctx, changed), "nor does a second check")

	// Each entered once; the one-step journey may already have sent and
	// settled (done) by the time this reads, or not yet (active).
	got := b.entries(t, c.ID)
	require.Len(t, got, 2, "%v", got)
	for _, id := range []int64{changed, created.ID} {
		require.Contains(t, []string{"active:", "done:"}, got[id], "contact %d: %v", id, got)
	}
	b.waitReceived(t, "user1@example.com", 1)
	b.waitReceived(t, "new@example.com", 1)
	require.Zero(t, b.received("user0@example.com", ""), "the member at launch got nothing")
	require.Eventually(t, func() bool {
		return maps.Equal(b.entries(t, c.ID), map[int64]string{changed: "done:", created.ID: "done:"})
	}, 30*time.Second, 20*time.Millisecond, "both journeys settle as done once their one step is sent")
}

// TestSegmentEntryTimeBasedRuleEntersWhenTheClockPasses: a rule on
// days_since lets a contact in through the periodic check once the
// engine's clock passes the threshold, not before.
func TestSegmentEntryTimeBasedRuleEntersWhenTheClockPasses(t *testing.T) {
	t.Parallel()
	clock := newTestClock()
	b := setupFull(t, nil, engine.WebhookConfig{}, clock.Now)
	ctx := context.Background()
	c := b.seed(t, 1, 0)
	c = b.segmentJourney(t, c, `days_since(contact.created_at) > 30`, "")
	require.NoError(t, b.eng.SyncSegmentEntries(ctx), "baseline: nobody is 30 days old")

	// The contact was created after the clock was set: 30 days on, it is
	// less than 30 days old; 32 days on, more than 31.
	clock.Advance(30 * 24 * time.Hour)
	require.NoError(t, b.eng.SyncSegmentEntries(ctx))
	require.Empty(t, b.entries(t, c.ID), "30 days: not yet")

	clock.Advance(2 * 24 * time.Hour)
	require.NoError(t, b.eng.SyncSegmentEntries(ctx))
	got := b.entries(t, c.ID)
	require.Len(t, got, 1, "%v", got)
	require.Contains(t, []string{"active:", "done:"}, got[b.contactID(t, "user0@example.com")], "entered once (its one step may be sent already): %v", got)
	b.waitReceived(t, "user0@example.com", 1)
}

// TestSegmentExitTakesOutAContactWhoStopsMatching: a contact who entered
// (its first step waiting out entry.delay) and then leaves the segment
// exits with reason segment_exit, and the waiting step is skipped.
func TestSegmentExitTakesOutAContactWhoStopsMatching(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	ctx := context.Background()
	c := b.seed(t, 1, 0)
	c = b.segmentJourney(t, c, `contact.attributes.city == "Shiraz"`, "1h", campaigns.Exit{SegmentExit: true})
	require.NoError(t, b.eng.SyncSegmentEntries(ctx), "baseline")
	sara := b.contactID(t, "user0@example.com")

	b.moveTo(t, sara, "Shiraz")
	require.NoError(t, b.eng.CheckContact(ctx, sara))
	require.Equal(t, map[int64]string{sara: "active:"}, b.entries(t, c.ID))

	b.moveTo(t, sara, "Tehran")
	require.NoError(t, b.eng.SyncSegmentEntries(ctx))
	require.Equal(t, map[int64]string{sara: "exited:" + engine.ExitSegment}, b.entries(t, c.ID))
	var status string
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT status FROM deliveries WHERE campaign_id = $1 AND contact_id = $2`, c.ID, sara).Scan(&status))
	require.Equal(t, "skipped", status, "the step waiting out the delay is skipped")
	require.Zero(t, b.received("user0@example.com", ""))
}

// TestSegmentEntryContactAPIChangeEntersWithoutThePeriodicCheck: a contact
// created through POST /contacts and one changed through PATCH enter the
// journey through their per-contact checks, with no periodic look after
// the baseline.
func TestSegmentEntryContactAPIChangeEntersWithoutThePeriodicCheck(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	ctx := context.Background()
	e := echo.New()
	e.HTTPErrorHandler = httpapi.ErrorHandler(b.svc.Logger)
	contacts.Routes(e.Group("/api/v1"), contacts.Deps{Pool: b.pool, River: b.client, Logger: b.svc.Logger, Journeys: b.eng, Changes: b.eng})
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)

	c := b.seed(t, 1, 0)
	c = b.segmentJourney(t, c, `contact.attributes.city == "Shiraz"`, "")
	require.NoError(t, b.eng.SyncSegmentEntries(ctx), "baseline")

	code, out := callJSON(t, http.MethodPost, srv.URL+"/api/v1/contacts", map[string]any{"email": "joined@example.com", "attributes": map[string]any{"city": "Shiraz"}})
	require.Equal(t, http.StatusCreated, code, out)
	changed := b.contactID(t, "user0@example.com")
	code, out = callJSON(t, http.MethodPatch, srv.URL+"/api/v1/contacts/"+itoa(changed), map[string]any{"attributes": map[string]any{"city": "Shiraz"}})
	require.Equal(t, http.StatusOK, code, out)

	b.waitReceived(t, "joined@example.com", 1)
	b.waitReceived(t, "user0@example.com", 1)
	require.Len(t, b.entries(t, c.ID), 2)
}
