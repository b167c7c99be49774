package engine_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/campaigns"
	"github.com/peykar/peykar/campaigns/contacts"
	"github.com/peykar/peykar/engine"
	"github.com/peykar/peykar/internal/httpapi"
)

// testClock is a movable clock for the engine.
type testClock struct{ at atomic.Pointer[time.Time] }

func newTestClock() *testClock {
	c := &testClock{}
	now := time.Now().UTC().Truncate(time.Second)
	c.at.Store(&now)
	return c
}

func (c *testClock) Now() time.Time { return *c.at.Load() }

func (c *testClock) Advance(d time.Duration) {
	next := c.Now().Add(d)
	c.at.Store(&next)
}

// journeyBundle is a bundle on a movable clock with the journeys' API:
// campaigns, and contacts with POST /events handing events to the engine.
type journeyBundle struct {
	*bundle
	clock *testClock
	srv   *httptest.Server
}

func setupJourneys(t *testing.T) *journeyBundle {
	t.Helper()
	return setupJourneysConfig(t, nil)
}

// setupJourneysConfig is setupJourneys with the engine's config changed by
// edit (nil: none).
func setupJourneysConfig(t *testing.T, edit func(*engine.Config)) *journeyBundle {
	t.Helper()
	clock := newTestClock()
	b := setupConfig(t, nil, engine.WebhookConfig{}, clock.Now, edit)
	b.svc.Now = clock.Now
	e := echo.New()
	e.HTTPErrorHandler = httpapi.ErrorHandler(b.svc.Logger)
	api := e.Group("/api/v1")
	b.svc.Routes(api)
	contacts.Routes(api, contacts.Deps{Pool: b.pool, River: b.client, Logger: b.svc.Logger, Journeys: b.eng})
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	return &journeyBundle{bundle: b, clock: clock, srv: srv}
}

// postEvent posts a contact event through the API.
func (j *journeyBundle) postEvent(t *testing.T, email, typ string, value float64) {
	t.Helper()
	code, out := callJSON(t, http.MethodPost, j.srv.URL+"/api/v1/events", map[string]any{"email": email, "type": typ, "value": value})
	require.Equal(t, http.StatusAccepted, code, out)
}

// createJourney creates and launches campaign c through the API.
func (j *journeyBundle) createJourney(t *testing.T, c map[string]any) int64 {
	t.Helper()
	code, out := callJSON(t, http.MethodPost, j.srv.URL+"/api/v1/campaigns", c)
	require.Equal(t, http.StatusCreated, code, out)
	id := int64(out["id"].(float64))
	code, out = callJSON(t, http.MethodPost, j.srv.URL+"/api/v1/campaigns/"+itoa(id)+"/launch", nil)
	require.Equal(t, http.StatusOK, code, out)
	require.Equal(t, campaigns.StatusRunning, out["status"])
	return id
}

// templates creates n templates whose subjects are the given names.
func (j *journeyBundle) templates(t *testing.T, subjects ...string) []int64 {
	t.Helper()
	ids := make([]int64, len(subjects))
	for i, s := range subjects {
		require.NoError(t, j.pool.QueryRow(context.Background(), `INSERT INTO templates (name, subject, html)
			VALUES ($1, $1, '<p>Hello {{ .Contact.Email }}</p>') RETURNING id`, s).Scan(&ids[i]))
	}
	return ids
}

// waitJourneyJobs waits until the journey jobs (entries, exits) posted so
// far have run: what they did not do, they will not do.
func (j *journeyBundle) waitJourneyJobs(t *testing.T) {
	t.Helper()
	j.waitSettled(t, 0, "journey_entry", "journey_exit")
	j.waitInboxEmpty(t)
}

// fastForward makes the campaign's scheduled sends due now, after
// checking they were scheduled at the engine's clock plus delay.
func (j *journeyBundle) fastForward(t *testing.T, campaignID int64, delay time.Duration) {
	t.Helper()
	ctx := context.Background()
	var due []time.Time
	rows, err := j.pool.Query(ctx, `SELECT scheduled_at FROM river_job WHERE kind IN ('send', 'send_packed') AND state = 'scheduled'
		AND (args->>'campaign_id')::bigint = $1`, campaignID)
	require.NoError(t, err)
	for rows.Next() {
		var at time.Time
		require.NoError(t, rows.Scan(&at))
		due = append(due, at)
	}
	require.NoError(t, rows.Err())
	require.NotEmpty(t, due, "no scheduled send of campaign %d", campaignID)
	for _, at := range due {
		require.WithinDuration(t, j.clock.Now().Add(delay), at, time.Second, "scheduled at the clock's time plus the delay")
	}
	j.clock.Advance(delay)
	_, err = j.pool.Exec(ctx, `UPDATE river_job SET state = 'available', scheduled_at = now()
		WHERE kind IN ('send', 'send_packed') AND state = 'scheduled' AND (args->>'campaign_id')::bigint = $1`, campaignID)
	require.NoError(t, err)
}

// entries reads the campaign's entries through the API.
func (j *journeyBundle) entries(t *testing.T, campaignID int64, query string) []campaigns.CampaignEntry {
	t.Helper()
	code, body := get(t, j.srv.URL+"/api/v1/campaigns/"+itoa(campaignID)+"/entries"+query)
	require.Equal(t, http.StatusOK, code, body)
	var out struct {
		Items []campaigns.CampaignEntry `json:"items"`
		Next  string                    `json:"next"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &out))
	return out.Items
}

// report reads the campaign's report once every send recorded so far is
// folded into its people (an always-on journey never finishes, and its
// people counters lag the sends by one fold: docs/sending.md).
func (j *journeyBundle) report(t *testing.T, id int64) campaigns.Report {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, j.eng.SettleSends(ctx))
	r, err := j.svc.Report(context.Background(), id)
	require.NoError(t, err)
	return r
}

// waitEntry waits until the contact's entries into the campaign have the
// statuses want, newest first.
func (j *journeyBundle) waitEntry(t *testing.T, campaignID int64, email string, want ...string) {
	t.Helper()
	require.Eventually(t, func() bool {
		rows, err := j.pool.Query(context.Background(), `SELECT e.status FROM campaign_entries e JOIN contacts c ON c.id = e.contact_id
			WHERE e.campaign_id = $1 AND c.email = $2 ORDER BY e.id DESC`, campaignID, email)
		require.NoError(t, err)
		var got []string
		for rows.Next() {
			var s string
			require.NoError(t, rows.Scan(&s))
			got = append(got, s)
		}
		return len(got) == len(want) && (len(want) == 0 || equalStrings(got, want))
	}, 20*time.Second, 20*time.Millisecond, "the entries of %s never became %v", email, want)
}

func equalStrings(a, b []string) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return len(a) == len(b)
}
