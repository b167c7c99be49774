package engine_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/mail"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/campaigns"
	"github.com/peykar/peykar/campaigns/contacts"
	"github.com/peykar/peykar/engine"
	"github.com/peykar/peykar/engine/mailer"
	"github.com/peykar/peykar/internal/baseservice"
	"github.com/peykar/peykar/internal/errs"
	"github.com/peykar/peykar/internal/netguard"
	"github.com/peykar/peykar/internal/outbox"
	"github.com/peykar/peykar/internal/smtptest"
	"github.com/peykar/peykar/migrations/pgtest"
	"github.com/peykar/peykar/tracking"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

type bundle struct {
	pool   *pgxpool.Pool
	sink   *smtptest.Server
	svc    *campaigns.Service
	client *river.Client[pgx.Tx]
	signer *tracking.Signer
	eng    *engine.Engine
	// stopInbox stops the engine's journey-inbox drainer (idempotent).
	stopInbox func()
}

type testLogWriter struct{ t testing.TB }

func (w testLogWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// setup starts the engine's workers on a fresh database, sending to an
// in-process SMTP server. Webhooks may reach loopback, where the tests'
// receivers listen.
func setup(t *testing.T, pool *pgxpool.Pool) *bundle {
	t.Helper()
	return setupWebhooks(t, pool, engine.WebhookConfig{Policy: netguard.Policy{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}})
}

// setupWebhooks is setup with webhooks reaching out as hooks says; the
// campaign service accepts on save what hooks.Policy allows.
func setupWebhooks(t *testing.T, pool *pgxpool.Pool, hooks engine.WebhookConfig) *bundle {
	t.Helper()
	return setupFull(t, pool, hooks, nil)
}

// setupFull is setupWebhooks with the engine reading clock (nil: the real
// time).
func setupFull(t *testing.T, pool *pgxpool.Pool, hooks engine.WebhookConfig, clock func() time.Time) *bundle {
	t.Helper()
	return setupConfig(t, pool, hooks, clock, nil)
}

// setupConfig is setupFull with the engine's config changed by edit (nil:
// none).
func setupConfig(t *testing.T, pool *pgxpool.Pool, hooks engine.WebhookConfig, clock func() time.Time, edit func(*engine.Config)) *bundle {
	t.Helper()
	ctx := context.Background()
	if pool == nil {
		pool = pgtest.NewPool(t)
	}
	sink, err := smtptest.Start(smtptest.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { sink.Close() })
	logger := slog.New(slog.NewTextHandler(testLogWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	smtpOut, err := mailer.New(mailer.Config{Host: "127.0.0.1", Port: sink.Port(), TLS: mailer.TLSNone, Pool: 4}, baseservice.New(logger, nil))
	require.NoError(t, err)
	t.Cleanup(smtpOut.Close)
	signer := tracking.NewSigner(tracking.Keys{Current: []byte("test-secret-test-secret-test-secret")})
	cfg := engine.Config{Pool: pool, Mailer: smtpOut, Signer: signer, BaseURL: "https://peykar.test", Logger: logger, Webhook: hooks, Clock: clock}
	if edit != nil {
		edit(&cfg)
	}
	eng := engine.New(cfg)
	workers := river.NewWorkers()
	eng.Register(workers)
	client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{
		Queues:            engine.QueueConfig(8),
		Workers:           workers,
		Logger:            logger,
		Middleware:        []rivertype.Middleware{&engine.ContainPanics{Logger: logger}},
		FetchCooldown:     5 * time.Millisecond,
		FetchPollInterval: 20 * time.Millisecond,
		TestOnly:          true,
	})
	require.NoError(t, err)
	eng.SetClient(client)
	require.NoError(t, client.Start(ctx))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = client.Stop(ctx)
	})
	stopInbox := eng.StartInbox(ctx)
	t.Cleanup(stopInbox)
	// As serve does: the send fold runs for good (and stops after River,
	// whose cleanup runs first).
	t.Cleanup(eng.StartSendFold(ctx))
	return &bundle{pool: pool, sink: sink, client: client, signer: signer, eng: eng, stopInbox: stopInbox,
		svc: &campaigns.Service{Pool: pool, Runtime: eng, Logger: logger, WebhookPolicy: hooks.Policy}}
}

// seed creates n contacts (user0@example.com …), an all-contacts segment
// and a personalised template, and returns a draft campaign to them.
func (b *bundle) seed(t *testing.T, n int, throttle float64) campaigns.Campaign {
	t.Helper()
	ctx := context.Background()
	for i := range n {
		_, err := contacts.Create(ctx, b.pool, contacts.ContactInput{
			Email: fmt.Sprintf("user%d@example.com", i), Name: fmt.Sprintf("User %d", i),
			Attributes: map[string]any{"city": "Tehran"},
		})
		require.NoError(t, err)
	}
	var segID, tplID int64
	require.NoError(t, b.pool.QueryRow(ctx, `INSERT INTO segments (name, rule) VALUES ('everyone', 'true') RETURNING id`).Scan(&segID))
	require.NoError(t, b.pool.QueryRow(ctx, `INSERT INTO templates (name, subject, html) VALUES ('welcome', 'سلام {{ .Contact.Name }}',
		'<html><body><p>Hello {{ .Contact.Name }}</p><a href="https://shop.example/pricing">Pricing</a> <a href="mailto:help@shop.example">Help</a> <a href="{{ unsubscribe_url }}">Unsubscribe</a></body></html>') RETURNING id`).Scan(&tplID))
	c := campaigns.Campaign{
		Name: "Spring", SegmentID: &segID, From: campaigns.Address{Name: "Shop", Email: "news@shop.example"},
		Steps: []campaigns.Step{{Key: "main", TemplateID: tplID}}, ThrottlePerSecond: throttle,
	}
	require.NoError(t, b.svc.Create(ctx, &c))
	return c
}

func (b *bundle) waitStatus(t *testing.T, id int64, status string, within time.Duration) {
	t.Helper()
	require.Eventually(t, func() bool {
		c, err := campaigns.Get(context.Background(), b.pool, id)
		require.NoError(t, err)
		return c.Status == status
	}, within, 20*time.Millisecond, "campaign %d never became %s", id, status)
}

func TestCampaignDeliversExactlyOnceWithPersonalisation(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	ctx := context.Background()
	const n = 60
	c := b.seed(t, n, 0)
	// One contact unsubscribed before launch never gets a delivery.
	_, err := b.pool.Exec(ctx, `UPDATE contacts SET status = 'unsubscribed' WHERE email = 'user0@example.com'`)
	require.NoError(t, err)

	launched, err := b.svc.Launch(ctx, c.ID)
	require.NoError(t, err)
	require.Equal(t, campaigns.StatusRunning, launched.Status)
	b.waitStatus(t, c.ID, campaigns.StatusFinished, 30*time.Second)

	msgs := b.sink.Messages()
	require.Len(t, msgs, n-1)
	seen := map[string]bool{}
	for _, m := range msgs {
		require.Len(t, m.To, 1)
		require.False(t, seen[m.To[0]], "%s received twice", m.To[0])
		seen[m.To[0]] = true
		parsed, err := outbox.Parse(m.Data)
		require.NoError(t, err)
		num := strings.TrimSuffix(strings.TrimPrefix(m.To[0], "user"), "@example.com")
		require.Equal(t, "سلام User "+num, parsed.Subject, "RTL subject survives RFC 2047")
		require.Contains(t, parsed.HTML, "Hello User "+num)
		require.Contains(t, parsed.HTML, "https://peykar.test/t/c/", "links are tracked")
		require.NotContains(t, parsed.HTML, `href="https://shop.example/pricing"`)
		require.Contains(t, parsed.HTML, `href="mailto:help@shop.example"`, "mailto is left alone")
		require.Contains(t, parsed.HTML, "https://peykar.test/t/o/", "open pixel")
		require.NotEmpty(t, parsed.Text, "text part generated")
		h := parsed.Headers
		require.Contains(t, h["List-Unsubscribe"][0], "<https://peykar.test/t/u/")
		require.Equal(t, "List-Unsubscribe=One-Click", h["List-Unsubscribe-Post"][0])
		require.Equal(t, fmt.Sprint(c.ID), h["X-Peykar-Campaign"][0])
		require.Regexp(t, `^<peykar\.\d+\.\d+@shop\.example>$`, h["Message-Id"][0])
		_, err = mail.ParseAddress(h["From"][0])
		require.NoError(t, err)
	}
	require.False(t, seen["user0@example.com"], "suppressed contact skipped")

	r, err := b.svc.Report(ctx, c.ID)
	require.NoError(t, err)
	require.EqualValues(t, n-1, r.Progress.Total)
	require.EqualValues(t, n-1, r.Progress.Sent)
	require.EqualValues(t, 1, r.Progress.Suppressed)
	require.EqualValues(t, n-1, r.Metrics.Sent)
	require.EqualValues(t, n-1, r.Metrics.Delivered)

	b.requireCountersMatch(t, c.ID)
	var sentStat int
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT sum(sent) FROM contact_stats`).Scan(&sentStat))
	require.Equal(t, n-1, sentStat, "contact stats count the sends")

	// Relaunching is refused.
	_, err = b.svc.Launch(ctx, c.ID)
	require.True(t, errs.Is(err, errs.Conflict))
}

func TestTemporaryFailuresRetryAndPermanentOnesBounce(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	ctx := context.Background()
	c := b.seed(t, 10, 0)
	tempFails := map[string]int{}
	b.sink.SetReject(func(rcpt string) *smtp.SMTPError {
		switch rcpt {
		case "user1@example.com", "user2@example.com":
			if tempFails[rcpt] < 1 { // greylisted once, then accepted
				tempFails[rcpt]++
				return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 7, 1}, Message: "greylisted, try again"}
			}
		case "user3@example.com":
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
		case "user4@example.com":
			return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "rejected by policy"}
		}
		return nil
	})
	// Retries back off 30 s by default; make the retry immediate by
	// rescheduling retryable jobs as soon as they appear.
	stop := make(chan struct{})
	t.Cleanup(func() { close(stop) })
	go func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
				_, _ = b.pool.Exec(ctx, `UPDATE river_job SET scheduled_at = now() WHERE state = 'retryable'`)
			}
		}
	}()
	_, err := b.svc.Launch(ctx, c.ID)
	require.NoError(t, err)
	b.waitStatus(t, c.ID, campaigns.StatusFinished, 30*time.Second)

	got := map[string]int{}
	for _, m := range b.sink.Messages() {
		got[m.To[0]]++
	}
	require.Len(t, got, 8, "everyone but the two refused addresses")
	require.Equal(t, 1, got["user1@example.com"], "greylisted recipient delivered once after retry")
	require.Equal(t, 1, got["user2@example.com"])

	statuses := map[string]string{}
	rows, err := b.pool.Query(ctx, `SELECT c.email, d.status, c.status FROM deliveries d JOIN contacts c ON c.id = d.contact_id`)
	require.NoError(t, err)
	for rows.Next() {
		var email, ds, cs string
		require.NoError(t, rows.Scan(&email, &ds, &cs))
		statuses[email] = ds + "/" + cs
	}
	require.NoError(t, rows.Err())
	require.Equal(t, "bounced/bounced", statuses["user3@example.com"], "5.1.1 bounces and suppresses the address")
	require.Equal(t, "bounced/active", statuses["user4@example.com"], "a policy refusal bounces but does not suppress")
	require.Equal(t, "sent/active", statuses["user1@example.com"])

	var attempts int
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT d.attempts FROM deliveries d JOIN contacts c ON c.id = d.contact_id WHERE c.email = 'user3@example.com'`).Scan(&attempts))
	require.Equal(t, 1, attempts, "a permanent failure is never retried")

	b.requireCountersMatch(t, c.ID)
	r, err := b.svc.Report(ctx, c.ID)
	require.NoError(t, err)
	require.EqualValues(t, 10, r.Metrics.Sent)
	require.EqualValues(t, 2, r.Metrics.Bounced)
	require.EqualValues(t, 8, r.Metrics.Delivered)
	require.InDelta(t, 0.2, r.Metrics.BounceRate, 1e-9)
}

func TestPauseResumeCancel(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	ctx := context.Background()
	c := b.seed(t, 40, 10) // 10 messages a second: 4 s in all
	_, err := b.svc.Launch(ctx, c.ID)
	require.NoError(t, err)
	require.Eventually(t, func() bool { return b.sink.Count() >= 5 }, 10*time.Second, 10*time.Millisecond)

	_, err = b.svc.Transition(ctx, c.ID, "pause")
	require.NoError(t, err)
	// Once every send job has stopped (snoozed on seeing the pause, or
	// done), a run after that snoozes again and sends nothing.
	b.waitSettled(t, c.ID, "send", "send_packed")
	atPause := b.sink.Count()
	snoozed := b.subscribeSnoozes(t)
	snoozed.next(t, "send_packed", c.ID)
	require.Equal(t, atPause, b.sink.Count(), "nothing is sent while paused")
	require.Less(t, atPause, 40)

	_, err = b.svc.Transition(ctx, c.ID, "pause")
	require.True(t, errs.Is(err, errs.Conflict), "pausing a paused campaign is refused")

	_, err = b.svc.Transition(ctx, c.ID, "resume")
	require.NoError(t, err)
	b.waitStatus(t, c.ID, campaigns.StatusFinished, 30*time.Second)
	require.Equal(t, 40, b.sink.Count(), "resume continues where it stopped, nobody twice")

	// Cancel: a second campaign stopped midway leaves the rest skipped.
	c2 := b.seedMore(t, c, 10)
	_, err = b.svc.Launch(ctx, c2.ID)
	require.NoError(t, err)
	require.Eventually(t, func() bool { return b.sink.Count() >= 43 }, 10*time.Second, 10*time.Millisecond)
	_, err = b.svc.Transition(ctx, c2.ID, "cancel")
	require.NoError(t, err)
	// Every send job of the cancelled campaign has ended: none can send.
	b.waitSettled(t, c2.ID, "send", "send_packed")
	final := b.sink.Count()
	var left int
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT count(*) FROM deliveries WHERE campaign_id = $1 AND status IN ('queued', 'sending')`, c2.ID).Scan(&left))
	require.Zero(t, left, "nothing is left to send after cancel")
	var snoozedJobs int
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind IN ('send', 'send_packed') AND (args->>'campaign_id')::bigint = $1 AND state = 'scheduled'`, c2.ID).Scan(&snoozedJobs))
	require.Zero(t, snoozedJobs, "no send job of the cancelled campaign waits to run again")
	require.Less(t, final, 80)
	b.requireCountersMatch(t, c.ID)
	b.requireCountersMatch(t, c2.ID)
	p, err := b.svc.Runtime.Progress(ctx, c2.ID)
	require.NoError(t, err)
	require.Zero(t, p.Queued)
	require.EqualValues(t, 40, p.Sent+p.Skipped+p.Sending)
	_, err = b.svc.Transition(ctx, c2.ID, "resume")
	require.True(t, errs.Is(err, errs.Conflict))
}

// seedMore creates another throttled campaign like c to the same contacts.
func (b *bundle) seedMore(t *testing.T, c campaigns.Campaign, throttle float64) campaigns.Campaign {
	t.Helper()
	c2 := campaigns.Campaign{Name: "Again", SegmentID: c.SegmentID, From: c.From, Steps: c.Steps, ThrottlePerSecond: throttle}
	require.NoError(t, b.svc.Create(context.Background(), &c2))
	return c2
}

func TestLaunchValidation(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	ctx := context.Background()
	c := b.seed(t, 1, 0)

	noFrom := campaigns.Campaign{Name: "x", SegmentID: c.SegmentID, Steps: c.Steps}
	require.NoError(t, b.svc.Create(ctx, &noFrom))
	_, err := b.svc.Launch(ctx, noFrom.ID)
	require.ErrorContains(t, err, "from.email")

	var empty int64
	require.NoError(t, b.pool.QueryRow(ctx, `INSERT INTO segments (name, rule) VALUES ('nobody', 'contact.email == "nobody@nowhere.example"') RETURNING id`).Scan(&empty))
	emptySeg := campaigns.Campaign{Name: "x", SegmentID: &empty, From: c.From, Steps: c.Steps}
	require.NoError(t, b.svc.Create(ctx, &emptySeg))
	_, err = b.svc.Launch(ctx, emptySeg.ID)
	require.ErrorContains(t, err, "no contacts")

	var bad int64
	require.NoError(t, b.pool.QueryRow(ctx, `INSERT INTO templates (name, subject, html) VALUES ('bad', 'Hi {{ .Contact.Nmae }}', '<p>x</p>') RETURNING id`).Scan(&bad))
	badTpl := campaigns.Campaign{Name: "x", SegmentID: c.SegmentID, From: c.From, Steps: []campaigns.Step{{Key: "main", TemplateID: bad}}}
	require.NoError(t, b.svc.Create(ctx, &badTpl))
	_, err = b.svc.Launch(ctx, badTpl.ID)
	require.ErrorContains(t, err, "steps[0].template_id")

	got, err := campaigns.Get(ctx, b.pool, badTpl.ID)
	require.NoError(t, err)
	require.Equal(t, campaigns.StatusDraft, got.Status, "a refused launch changes nothing")
	_ = io.Discard
}

// settleSends waits until the send fold has folded every recorded send
// outcome: the step counters, people and report lag the deliveries by one
// fold (send_fold.go).
func (b *bundle) settleSends(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, b.eng.SettleSends(ctx))
}

// requireCountersMatch checks the invariant that the rollup counters the
// report reads equal a direct count over the deliveries table, once the
// send fold has folded what was recorded.
func (b *bundle) requireCountersMatch(t *testing.T, campaignID int64) {
	t.Helper()
	ctx := context.Background()
	b.settleSends(t)
	p, err := b.svc.Runtime.Progress(ctx, campaignID)
	require.NoError(t, err)
	direct := map[string]int64{}
	rows, err := b.pool.Query(ctx, `SELECT status, count(*) FROM deliveries WHERE campaign_id = $1 GROUP BY status`, campaignID)
	require.NoError(t, err)
	var total int64
	for rows.Next() {
		var s string
		var n int64
		require.NoError(t, rows.Scan(&s, &n))
		direct[s] = n
		total += n
	}
	require.NoError(t, rows.Err())
	require.Equal(t, total, p.Total, "total")
	require.Equal(t, direct["sent"], p.Sent, "sent")
	require.Equal(t, direct["bounced"], p.Bounced+p.AsyncBounced, "bounced")
	require.Equal(t, direct["failed"], p.Failed, "failed")
	require.Equal(t, direct["skipped"], p.Skipped, "skipped")
	require.Equal(t, direct["queued"]+direct["sending"], p.Remaining, "remaining")
	require.Equal(t, p.Remaining, p.Queued, "queued")
}

func TestSweepResendsOrphanedDeliveries(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	ctx := context.Background()
	c := b.seed(t, 2, 0)
	_, err := b.svc.Launch(ctx, c.ID)
	require.NoError(t, err)
	b.waitStatus(t, c.ID, campaigns.StatusFinished, 20*time.Second)
	require.Equal(t, 2, b.sink.Count())

	// A follow-up whose send job was discarded after its last attempt.
	_, err = b.pool.Exec(ctx, `INSERT INTO campaign_steps (campaign_id, key, position, template_id)
		SELECT campaign_id, 'again', 1, template_id FROM campaign_steps WHERE campaign_id = $1`, c.ID)
	require.NoError(t, err)
	var deliveryID int64
	require.NoError(t, b.pool.QueryRow(ctx, `INSERT INTO deliveries (campaign_id, step, contact_id, status, attempts)
		SELECT $1, 'again', id, 'queued', 1 FROM contacts WHERE email = 'user1@example.com' RETURNING id`, c.ID).Scan(&deliveryID))
	var jobID int64
	require.NoError(t, b.pool.QueryRow(ctx, `INSERT INTO river_job (kind, args, queue, state, max_attempts, attempt, finalized_at, attempted_at)
		VALUES ('send', $1, 'send', 'discarded', 1, 1, now(), now()) RETURNING id`,
		fmt.Sprintf(`{"campaign_id": %d, "delivery_ids": [%d]}`, c.ID, deliveryID)).Scan(&jobID))
	_, err = b.pool.Exec(ctx, `UPDATE deliveries SET claimed_by = $1 WHERE id = $2`, jobID, deliveryID)
	require.NoError(t, err)
	_, err = b.client.Insert(ctx, engine.SweepArgs{}, nil)
	require.NoError(t, err)
	require.Eventually(t, func() bool { return b.sink.Count() == 3 }, 20*time.Second, 20*time.Millisecond)
	require.Eventually(t, func() bool {
		var status string
		require.NoError(t, b.pool.QueryRow(ctx, `SELECT status FROM deliveries WHERE step = 'again'`).Scan(&status))
		return status == "sent"
	}, 10*time.Second, 20*time.Millisecond)

	// A second sweep finds nothing more to do.
	_, err = b.client.Insert(ctx, engine.SweepArgs{}, nil)
	require.NoError(t, err)
	b.waitSettled(t, 0, "sweep_deliveries", "send", "send_packed")
	require.Equal(t, 3, b.sink.Count())
}
