package engine_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/engine"
)

// oneStepSignup is a signup journey of one step (reentry never).
func (j *journeyBundle) oneStepSignup(t *testing.T) int64 {
	t.Helper()
	tpl := j.templates(t, "Welcome")
	c := welcomeSeries([]int64{tpl[0], tpl[0], tpl[0]}, "never")
	c["steps"] = []map[string]any{{"key": "welcome", "template_id": tpl[0]}}
	c["rules"] = []map[string]any{}
	return j.createJourney(t, c)
}

// signups is 500 new addresses and 50 repeats of some of them, the repeats
// spread among the first posts so a repeat may race its first event.
func signups() []string {
	const people, repeats = 500, 50
	out := make([]string, 0, people+repeats)
	for i := range people {
		out = append(out, fmt.Sprintf("person%d@example.com", i))
		if i%10 == 9 {
			out = append(out, fmt.Sprintf("person%d@example.com", i-3))
		}
	}
	return out
}

// postConcurrently posts a signup for each address from 16 clients at once
// and returns how many calls were not answered 202.
func (j *journeyBundle) postConcurrently(emails []string) int64 {
	var failed atomic.Int64
	work := make(chan string)
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for email := range work {
				body, _ := json.Marshal(map[string]any{"email": email, "type": "signup"})
				resp, err := http.Post(j.srv.URL+"/api/v1/events", "application/json", bytes.NewReader(body))
				if err != nil {
					failed.Add(1)
					continue
				}
				_ = resp.Body.Close()
				if resp.StatusCode != http.StatusAccepted {
					failed.Add(1)
				}
			}
		})
	}
	for _, e := range emails {
		work <- e
	}
	close(work)
	wg.Wait()
	return failed.Load()
}

// requireOneEach checks that every address has exactly one entry, one
// delivery and one message, and that nothing else was sent.
func (j *journeyBundle) requireOneEach(t *testing.T, id int64, people int) {
	t.Helper()
	require.Eventually(t, func() bool { return j.sink.Count() >= people }, 60*time.Second, 20*time.Millisecond,
		"the first steps never all arrived")
	j.waitSettled(t, id, "send", "send_packed")
	require.Equal(t, people, j.countOf(t, `SELECT count(*) FROM campaign_entries WHERE campaign_id = $1`, id))
	require.Equal(t, people, j.countOf(t, `SELECT count(DISTINCT contact_id) FROM campaign_entries WHERE campaign_id = $1 AND status <> 'failed'`, id))
	require.Equal(t, people, j.countOf(t, `SELECT count(*) FROM deliveries WHERE campaign_id = $1 AND status = 'sent'`, id))
	per := map[string]int{}
	for _, m := range j.sink.Messages() {
		per[m.To[0]]++
	}
	require.Len(t, per, people, "one address per contact")
	for rcpt, n := range per {
		require.Equal(t, 1, n, "%s got %d messages", rcpt, n)
	}
	j.requireCountersMatch(t, id)
}

// TestConcurrentSignupsEnterOnceInBatches: 500 signups for new addresses
// and 50 repeats, posted concurrently through the API, make exactly one
// entry, one delivery and one message per contact, and the entries are
// made in batches: every event waits in the journey inbox (no River job per
// event), and four drainers taking at most 50 rows each let all 550 in
// with at most 20 transactions, each creating its entries' deliveries and
// one send job, with the rollups equal to a direct count.
func TestConcurrentSignupsEnterOnceInBatches(t *testing.T) {
	t.Parallel()
	j := setupJourneysConfig(t, func(c *engine.Config) { c.InboxBatch = 50 })
	j.stopInbox() // this test drains by hand, to count the batches
	id := j.oneStepSignup(t)
	emails := signups()

	require.Zero(t, j.postConcurrently(emails))
	require.Equal(t, len(emails), j.countOf(t, `SELECT count(*) FROM journey_inbox WHERE campaign_id = $1`, id))
	require.Zero(t, j.countOf(t, `SELECT count(*) FROM river_job WHERE kind = 'journey_entry'`), "no job per event")
	require.Zero(t, j.countOf(t, `SELECT count(*) FROM campaign_entries`), "nothing entered before a drain")

	var drains atomic.Int64
	var wg sync.WaitGroup
	errc := make(chan error, 4)
	for range 4 {
		wg.Go(func() {
			for {
				n, err := j.eng.DrainInbox(context.Background())
				if err != nil {
					errc <- err
					return
				}
				if n == 0 {
					return
				}
				drains.Add(1)
			}
		})
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		require.NoError(t, err)
	}
	require.Zero(t, j.countOf(t, `SELECT count(*) FROM journey_inbox`))
	require.LessOrEqual(t, drains.Load(), int64(20), "550 events in drains of at most 50")
	// The send workers run meanwhile and settle entries (an update, a new
	// xmin), so only the entries still active show their insert's
	// transaction.
	txs := j.countOf(t, `SELECT count(DISTINCT xmin::text) FROM campaign_entries WHERE campaign_id = $1 AND status = 'active'`, id)
	require.LessOrEqual(t, txs, int(drains.Load()), "entries made by the drains' transactions only")
	sends := j.countOf(t, `SELECT count(*) FROM river_job WHERE kind IN ('send', 'send_packed') AND (args->>'campaign_id')::bigint = $1`, id)
	require.LessOrEqual(t, sends, int(drains.Load()), "one send job per batch")

	j.requireOneEach(t, id, 500)
}

// TestConcurrentSignupsWithTheDrainerRunning: the same load with the
// engine's own drainer running (as `peykar serve` runs it) enters and mails
// each contact once.
func TestConcurrentSignupsWithTheDrainerRunning(t *testing.T) {
	t.Parallel()
	j := setupJourneys(t)
	id := j.oneStepSignup(t)
	require.Zero(t, j.postConcurrently(signups()))
	j.requireOneEach(t, id, 500)
	j.waitInboxEmpty(t)
}
