package engine_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/labstack/echo/v4"
	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/campaigns"
	"github.com/peykar/peykar/campaigns/contacts"
	"github.com/peykar/peykar/engine"
	"github.com/peykar/peykar/internal/httpapi"
	"github.com/peykar/peykar/internal/outbox"
	"github.com/peykar/peykar/tracking"
)

// trackingServer serves the public tracking endpoints and the events API
// for b's database. Its clock runs an hour ahead so that test clicks are
// not mistaken for a scanner's instant clicks.
func (b *bundle) trackingServer(t *testing.T) *httptest.Server {
	t.Helper()
	return b.trackingServerAt(t, func() time.Time { return time.Now().Add(time.Hour) })
}

// trackingServerAt is trackingServer on the clock now.
func (b *bundle) trackingServerAt(t *testing.T, now func() time.Time) *httptest.Server {
	t.Helper()
	svc, err := tracking.NewService(tracking.Config{Pool: b.pool, Signer: b.signer, River: b.client, Now: now})
	require.NoError(t, err)
	require.NoError(t, svc.Start(context.Background()))
	t.Cleanup(func() { _ = svc.Close(context.Background()) })
	e := echo.New()
	e.HTTPErrorHandler = httpapi.ErrorHandler(b.svc.Logger)
	api := e.Group("/api/v1")
	svc.Routes(e, api)
	conv := svc.Conversions()
	contacts.Routes(api, contacts.Deps{Pool: b.pool, River: b.client, Conversions: contacts.ConversionFunc(
		func(ctx context.Context, tx pgx.Tx, tr contacts.Transaction) error {
			return conv.RecordConversion(ctx, tx, tr.ContactID, tr.ID, tr.CampaignID, tr.Value, tr.OccurredAt)
		})})
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	trackingServices.Store(srv.URL, svc)
	return srv
}

// trackingServices are the tracking services behind the test servers, by
// URL, for settleTracking.
var trackingServices sync.Map

// settleTracking waits until the clicks and opens srv answered are folded
// into events, counters and rule jobs (tracking.Service.Settle polls with
// a deadline), as a report read a moment later sees them.
func settleTracking(t *testing.T, srv *httptest.Server) {
	t.Helper()
	svc, ok := trackingServices.Load(srv.URL)
	require.True(t, ok, "no tracking service behind %s", srv.URL)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, svc.(*tracking.Service).Settle(ctx))
}

var clickURL = regexp.MustCompile(`https://peykar\.test(/t/c/[A-Za-z0-9_-]+)`)

// click follows the first tracked link of the message sent to rcpt, as a
// person's browser would (without following the redirect), and lets the
// classification window pass (passVerdictWindow) so its rules run now.
func (b *bundle) click(t *testing.T, srv *httptest.Server, rcpt, linkText string) {
	t.Helper()
	b.clickOnly(t, srv, rcpt, linkText)
	b.passVerdictWindow(t)
}

// passVerdictWindow makes the click rule jobs waiting for their verdict
// (tracking.VerdictAt) due now, as if tracking.VerdictDelay had passed.
// The jobs still read the verdict stored by then.
func (b *bundle) passVerdictWindow(t *testing.T) {
	t.Helper()
	_, err := b.pool.Exec(context.Background(), `UPDATE river_job SET state = 'available', scheduled_at = now()
		WHERE kind = 'rules' AND state = 'scheduled'`)
	require.NoError(t, err)
}

// clickOnly is click without passing the classification window.
func (b *bundle) clickOnly(t *testing.T, srv *httptest.Server, rcpt, linkText string) {
	t.Helper()
	for _, m := range b.sink.Messages() {
		if m.To[0] != rcpt {
			continue
		}
		p, err := outbox.Parse(m.Data)
		require.NoError(t, err)
		for _, a := range regexp.MustCompile(`<a href="([^"]+)"[^>]*>([^<]*)</a>`).FindAllStringSubmatch(p.HTML, -1) {
			if a[2] != linkText {
				continue
			}
			path := clickURL.FindStringSubmatch(a[1])
			require.NotNil(t, path, a[1])
			req, _ := http.NewRequest(http.MethodGet, srv.URL+path[1], nil)
			req.Header.Set("User-Agent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36")
			resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
			require.NoError(t, err)
			resp.Body.Close()
			require.Equal(t, http.StatusFound, resp.StatusCode)
			settleTracking(t, srv)
			return
		}
	}
	t.Fatalf("no %q link in a message to %s", linkText, rcpt)
}

func (b *bundle) followUpTemplate(t *testing.T) int64 {
	t.Helper()
	var id int64
	require.NoError(t, b.pool.QueryRow(context.Background(), `INSERT INTO templates (name, subject, html)
		VALUES ('offer', 'Your offer, {{ .Contact.Name }}', '<p>20% off</p>') RETURNING id`).Scan(&id))
	return id
}

func (b *bundle) received(rcpt, subjectPrefix string) int {
	n := 0
	for _, m := range b.sink.Messages() {
		if m.To[0] != rcpt {
			continue
		}
		p, err := outbox.Parse(m.Data)
		if err == nil && strings.HasPrefix(p.Subject, subjectPrefix) {
			n++
		}
	}
	return n
}

func TestClickFollowUpSentOnceAfterDelayDespiteRepeatedClicks(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	ctx := context.Background()
	srv := b.trackingServer(t)
	c := b.seed(t, 3, 0)
	offer := b.followUpTemplate(t)
	c.Steps = append(c.Steps, campaigns.Step{Key: "offer", TemplateID: offer})
	c.Rules = []campaigns.Rule{{Name: "pricing click", On: "click", When: `event.link.url contains "pricing"`,
		Actions: []campaigns.Action{{Type: "send", Step: "offer", Delay: "1s"}, {Type: "add_tag", Tag: "clicked-pricing"}}}}
	require.NoError(t, b.svc.Update(ctx, &c))
	_, err := b.svc.Launch(ctx, c.ID)
	require.NoError(t, err)
	b.waitStatus(t, c.ID, campaigns.StatusFinished, 20*time.Second)

	for range 3 {
		b.click(t, srv, "user1@example.com", "Pricing")
	}
	require.Eventually(t, func() bool { return b.received("user1@example.com", "Your offer") == 1 }, 20*time.Second, 20*time.Millisecond)
	// Every rules and send job has ended: a wrong second send would have happened.
	b.waitSettled(t, c.ID, "rules", "send", "send_packed")
	require.Equal(t, 1, b.received("user1@example.com", "Your offer"), "three clicks, one follow-up")
	require.Zero(t, b.received("user2@example.com", "Your offer"), "no click, no follow-up")

	var fired int
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT count(*) FROM rule_firings WHERE campaign_id = $1 AND status = 'fired'`, c.ID).Scan(&fired))
	require.Equal(t, 1, fired)
	p, err := contacts.GetMany(ctx, b.pool, []int64{mustContactID(t, b, "user1@example.com")})
	require.NoError(t, err)
	require.Contains(t, p[0].Tags, "clicked-pricing")
}

func mustContactID(t *testing.T, b *bundle, email string) int64 {
	t.Helper()
	var id int64
	require.NoError(t, b.pool.QueryRow(context.Background(), `SELECT id FROM contacts WHERE email = $1`, email).Scan(&id))
	return id
}

func TestNoOpenResendsOnlyToNonOpeners(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	ctx := context.Background()
	c := b.seed(t, 4, 0)
	resend := b.followUpTemplate(t)
	c.Steps = append(c.Steps, campaigns.Step{Key: "resend", TemplateID: resend})
	c.Rules = []campaigns.Rule{{Name: "no open", On: "no_open", After: "2s",
		Actions: []campaigns.Action{{Type: "send", Step: "resend"}}}}
	require.NoError(t, b.svc.Update(ctx, &c))
	_, err := b.svc.Launch(ctx, c.ID)
	require.NoError(t, err)
	b.waitStatus(t, c.ID, campaigns.StatusFinished, 20*time.Second)
	// user1 and user2 open (recorded as human opens) before the timer runs.
	_, err = b.pool.Exec(ctx, `UPDATE deliveries SET first_open_at = now()
		WHERE contact_id IN (SELECT id FROM contacts WHERE email IN ('user1@example.com', 'user2@example.com'))`)
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		return b.received("user0@example.com", "Your offer") == 1 && b.received("user3@example.com", "Your offer") == 1
	}, 20*time.Second, 20*time.Millisecond)
	b.waitSettled(t, c.ID, "rule_timer", "send", "send_packed")
	require.Zero(t, b.received("user1@example.com", "Your offer"))
	require.Zero(t, b.received("user2@example.com", "Your offer"))
	// The openers are counted as skipped by the rule, the others as fired.
	r, err := b.svc.Report(ctx, c.ID)
	require.NoError(t, err)
	require.Equal(t, []campaigns.RuleCount{{Name: "no open", Fired: 2, Skipped: 2}}, r.Rules)
}

func TestConversionExitsAndTags(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	ctx := context.Background()
	srv := b.trackingServer(t)
	c := b.seed(t, 2, 0)
	offer := b.followUpTemplate(t)
	c.Steps = append(c.Steps, campaigns.Step{Key: "offer", TemplateID: offer})
	c.Rules = []campaigns.Rule{
		{Name: "bought", On: "conversion", Actions: []campaigns.Action{{Type: "add_tag", Tag: "customer"}, {Type: "exit"}}},
		{Name: "clicked", On: "click", Actions: []campaigns.Action{{Type: "send", Step: "offer"}}},
	}
	require.NoError(t, b.svc.Update(ctx, &c))
	_, err := b.svc.Launch(ctx, c.ID)
	require.NoError(t, err)
	b.waitStatus(t, c.ID, campaigns.StatusFinished, 20*time.Second)

	body, _ := json.Marshal(map[string]any{"email": "user0@example.com", "type": "purchase", "value": 49.5, "currency": "EUR", "campaign_id": c.ID})
	resp, err := http.Post(srv.URL+"/api/v1/events", "application/json", bytes.NewReader(body))
	require.NoError(t, err)
	out, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusAccepted, resp.StatusCode, string(out))
	id := mustContactID(t, b, "user0@example.com")
	require.Eventually(t, func() bool {
		p, err := contacts.GetMany(ctx, b.pool, []int64{id})
		return err == nil && len(p) == 1 && contains(p[0].Tags, "customer")
	}, 20*time.Second, 20*time.Millisecond)
	var exited bool
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM campaign_exits WHERE campaign_id = $1 AND contact_id = $2)`, c.ID, id).Scan(&exited))
	require.True(t, exited)

	// After the exit, a click fires nothing for that contact.
	b.click(t, srv, "user0@example.com", "Pricing")
	b.click(t, srv, "user1@example.com", "Pricing")
	require.Eventually(t, func() bool { return b.received("user1@example.com", "Your offer") == 1 }, 20*time.Second, 20*time.Millisecond)
	b.waitSettled(t, c.ID, "rules", "send", "send_packed")
	require.Zero(t, b.received("user0@example.com", "Your offer"), "exited contacts get no follow-ups")
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func TestPausedCampaignHoldsFollowUps(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	ctx := context.Background()
	srv := b.trackingServer(t)
	c := b.seed(t, 2, 0)
	offer := b.followUpTemplate(t)
	c.Steps = append(c.Steps, campaigns.Step{Key: "offer", TemplateID: offer})
	c.Rules = []campaigns.Rule{{Name: "clicked", On: "click", Actions: []campaigns.Action{{Type: "send", Step: "offer"}}}}
	require.NoError(t, b.svc.Update(ctx, &c))
	_, err := b.svc.Launch(ctx, c.ID)
	require.NoError(t, err)
	require.Eventually(t, func() bool { return b.sink.Count() == 2 }, 20*time.Second, 10*time.Millisecond)
	// The campaign finishes; pausing a finished campaign is refused, so
	// hold follow-ups with a running campaign: relaunch a fresh one paused.
	b.waitStatus(t, c.ID, campaigns.StatusFinished, 20*time.Second)
	_, err = b.pool.Exec(ctx, `UPDATE campaigns SET status = 'paused' WHERE id = $1`, c.ID)
	require.NoError(t, err)
	b.click(t, srv, "user1@example.com", "Pricing")
	// The click's rules job has run and snoozed: it fired nothing.
	b.waitSettled(t, c.ID, "rules")
	require.Empty(t, b.deliveryStatus(t, c.ID, "user1@example.com", "offer"), "held while paused")
	require.Zero(t, b.received("user1@example.com", "Your offer"), "held while paused")
	_, err = b.svc.Transition(ctx, c.ID, "resume")
	require.NoError(t, err)
	require.Eventually(t, func() bool { return b.received("user1@example.com", "Your offer") == 1 }, 30*time.Second, 20*time.Millisecond)
}

func TestRuleRuntimeErrorIsRecordedNotCrashed(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	ctx := context.Background()
	srv := b.trackingServer(t)
	c := b.seed(t, 2, 0)
	// "scored" reads an attribute only user0 has: for user1 it is missing,
	// and, as in a segment, the predicate is false (no firing, no failure).
	// "huge" compiles, and would build a 17 MB string from the contact's
	// address: its evaluation budget stops it, a real error, recorded.
	c.Rules = []campaigns.Rule{
		{Name: "scored", On: "click", When: `contact.attributes.score > 3`, Actions: []campaigns.Action{{Type: "add_tag", Tag: "x"}}},
		{Name: "good", On: "click", Actions: []campaigns.Action{{Type: "add_tag", Tag: "clicker"}}},
		{Name: "huge", On: "click", When: `len(repeat(contact.email, 1000000)) > 0`, Actions: []campaigns.Action{{Type: "add_tag", Tag: "y"}}},
	}
	require.NoError(t, b.svc.Update(ctx, &c))
	_, err := b.svc.Launch(ctx, c.ID)
	require.NoError(t, err)
	b.waitStatus(t, c.ID, campaigns.StatusFinished, 20*time.Second)
	_, err = b.pool.Exec(ctx, `UPDATE contacts SET attributes = attributes || '{"score": 5}' WHERE email = 'user0@example.com'`)
	require.NoError(t, err)
	b.click(t, srv, "user0@example.com", "Pricing")
	b.click(t, srv, "user1@example.com", "Pricing")
	// Each click's rules run in one transaction: once both clicks' "good"
	// and "huge" are recorded, "scored" has been decided for both.
	require.Eventually(t, func() bool {
		var failed, fired int
		_ = b.pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE status = 'failed'), count(*) FILTER (WHERE status = 'fired' AND rule_name = 'good') FROM rule_firings WHERE campaign_id = $1`, c.ID).Scan(&failed, &fired)
		return failed == 2 && fired == 2
	}, 20*time.Second, 20*time.Millisecond)
	var hugeErr string
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT error FROM rule_firings WHERE rule_name = 'huge' LIMIT 1`).Scan(&hugeErr))
	require.Contains(t, hugeErr, "evaluation budget")
	require.Contains(t, hugeErr, `rule "huge"`)

	camp, err := campaigns.Get(ctx, b.pool, c.ID)
	require.NoError(t, err)
	stats, err := campaigns.RulesStats(ctx, b.pool, camp)
	require.NoError(t, err)
	require.Equal(t, []campaigns.RuleStats{
		{Name: "scored", On: "click", Fired: 1},
		{Name: "good", On: "click", Fired: 2},
		{Name: "huge", On: "click", Fired: 0, Failed: 2, LastError: hugeErr},
	}, stats)
	p, err := contacts.GetMany(ctx, b.pool, []int64{mustContactID(t, b, "user0@example.com"), mustContactID(t, b, "user1@example.com")})
	require.NoError(t, err)
	for _, x := range p {
		require.Equal(t, x.Email == "user0@example.com", contains(x.Tags, "x"), "%s: %v", x.Email, x.Tags)
	}
}

func TestRuleValidationOnSave(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	c := b.seed(t, 1, 0)
	c.Rules = []campaigns.Rule{{Name: "typo", On: "click", When: `event.lnk.url contains "x"`, Actions: []campaigns.Action{{Type: "exit"}}}}
	err := b.svc.Update(context.Background(), &c)
	require.Error(t, err)
	require.Contains(t, err.Error(), "rules[0].when")
	require.Contains(t, err.Error(), `rule "typo"`)
	c.Rules = []campaigns.Rule{{Name: "bad step", On: "click", Actions: []campaigns.Action{{Type: "send", Step: "nope"}}}}
	require.ErrorContains(t, b.svc.Update(context.Background(), &c), "rules[0].actions[0].step")
	c.Rules = []campaigns.Rule{{Name: "timer", On: "no_open", Actions: []campaigns.Action{{Type: "exit"}}}}
	require.ErrorContains(t, b.svc.Update(context.Background(), &c), "rules[0].after")
}

func TestWebhookChannelRetriesThenSucceeds(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	ctx := context.Background()
	var calls atomic.Int32
	var lastSig, lastBody atomic.Value
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if calls.Add(1) == 1 {
			w.WriteHeader(http.StatusBadGateway) // first call fails: retried
			return
		}
		lastSig.Store(r.Header.Get("X-Peykar-Signature") + "|" + r.Header.Get("X-Peykar-Timestamp"))
		lastBody.Store(string(body))
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(hook.Close)
	stop := make(chan struct{})
	t.Cleanup(func() { close(stop) })
	go func() { // make River's backoff immediate
		for {
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
				_, _ = b.pool.Exec(ctx, `UPDATE river_job SET scheduled_at = now() WHERE state = 'retryable'`)
			}
		}
	}()
	c := b.seed(t, 1, 0)
	var sms int64
	require.NoError(t, b.pool.QueryRow(ctx, `INSERT INTO templates (name, subject, html, text)
		VALUES ('sms', 'sms', '<p>x</p>', '{"to": "{{ .Contact.Email }}", "message": "Hi {{ .Contact.Name }}"}') RETURNING id`).Scan(&sms))
	c.Channel = campaigns.ChannelWebhook
	c.Steps = []campaigns.Step{{Key: "main", TemplateID: sms}}
	c.Settings.Webhook = &campaigns.WebhookSettings{URL: hook.URL, Secret: "s3cret"}
	require.NoError(t, b.svc.Update(ctx, &c))
	_, err := b.svc.Launch(ctx, c.ID)
	require.NoError(t, err)
	b.waitStatus(t, c.ID, campaigns.StatusFinished, 30*time.Second)
	require.EqualValues(t, 2, calls.Load(), "one failure, one success")
	body := lastBody.Load().(string)
	require.JSONEq(t, `{"to": "user0@example.com", "message": "Hi User 0"}`, body)
	sig, ts, _ := strings.Cut(lastSig.Load().(string), "|")
	require.Equal(t, "sha256="+engine.Sign("s3cret", ts, []byte(body)), sig)
	var status string
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT status FROM deliveries WHERE campaign_id = $1`, c.ID).Scan(&status))
	require.Equal(t, "sent", status)
	require.Zero(t, b.sink.Count(), "no email on the webhook channel")
	_ = fmt.Sprint
}

func TestFrequencyCapHoldsFollowUpBack(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	ctx := context.Background()
	srv := b.trackingServer(t)
	c := b.seed(t, 1, 0)
	offer := b.followUpTemplate(t)
	c.Steps = append(c.Steps, campaigns.Step{Key: "offer", TemplateID: offer})
	c.Rules = []campaigns.Rule{{Name: "clicked", On: "click", Actions: []campaigns.Action{{Type: "send", Step: "offer"}}}}
	c.Settings.FrequencyCap = &campaigns.FrequencyCap{Max: 1, Per: "4s"}
	require.NoError(t, b.svc.Update(ctx, &c))
	_, err := b.svc.Launch(ctx, c.ID)
	require.NoError(t, err)
	b.waitStatus(t, c.ID, campaigns.StatusFinished, 20*time.Second)
	b.click(t, srv, "user0@example.com", "Pricing")
	require.Eventually(t, func() bool { return b.received("user0@example.com", "Your offer") == 1 }, 30*time.Second, 20*time.Millisecond)
	// The sink receives the message just before the outcome commits.
	require.Eventually(t, func() bool {
		var status string
		_ = b.pool.QueryRow(ctx, `SELECT status FROM deliveries WHERE campaign_id = $1 AND step = 'offer'`, c.ID).Scan(&status)
		return status == "sent"
	}, 10*time.Second, 20*time.Millisecond)

	var gap time.Duration
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT max(sent_at) - min(sent_at) FROM deliveries WHERE campaign_id = $1`, c.ID).Scan(&gap))
	require.GreaterOrEqual(t, gap, 4*time.Second, "the follow-up waited for the cap's window, it was not dropped")
	var attempts int
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT attempts FROM deliveries WHERE step = 'offer'`).Scan(&attempts))
	require.Equal(t, 1, attempts, "holding back does not spend attempts")

	bad := c
	bad.Settings.FrequencyCap = &campaigns.FrequencyCap{Max: 0, Per: "1h"}
	require.ErrorContains(t, b.svc.Update(ctx, &bad), "settings.frequency_cap.max")
}

// A rule stored before the evaluation budget existed, that the budget's
// save-time check now refuses, cancels the rules job with the reason: it is
// not retried, and nothing is evaluated.
func TestStoredRuleRefusedByBudgetCancelsJob(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	ctx := context.Background()
	srv := b.trackingServer(t)
	c := b.seed(t, 1, 0)
	c.Rules = []campaigns.Rule{{Name: "tag", On: "click", Actions: []campaigns.Action{{Type: "add_tag", Tag: "x"}}}}
	require.NoError(t, b.svc.Update(ctx, &c))
	_, err := b.svc.Launch(ctx, c.ID)
	require.NoError(t, err)
	b.waitStatus(t, c.ID, campaigns.StatusFinished, 20*time.Second)
	_, err = b.pool.Exec(ctx, `UPDATE campaigns SET rules = $2, updated_at = now() WHERE id = $1`, c.ID,
		`[{"name":"boom","on":"click","when":"len(repeat(repeat(\"x\", 99999), 1000000)) > 0","actions":[{"type":"add_tag","tag":"x"}]}]`)
	require.NoError(t, err)
	events, cancel := b.client.Subscribe(river.EventKindJobCancelled, river.EventKindJobFailed, river.EventKindJobCompleted)
	defer cancel()
	b.click(t, srv, "user0@example.com", "Pricing")
	deadline := time.After(30 * time.Second)
	for {
		select {
		case ev := <-events:
			if ev.Job.Kind != (tracking.RuleEventArgs{}).Kind() {
				continue
			}
			require.Equal(t, river.EventKindJobCancelled, ev.Kind)
			require.Equal(t, 1, ev.Job.Attempt)
			require.Contains(t, ev.Job.Errors[len(ev.Job.Errors)-1].Error, "evaluation budget")
			return
		case <-deadline:
			t.Fatal("no rules job ended")
		}
	}
}
