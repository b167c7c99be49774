package engine_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/campaigns"
	"github.com/peykar/peykar/engine"
	"github.com/peykar/peykar/internal/netguard"
)

var loopbackAllowed = netguard.Policy{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}

// receiver is a webhook receiver on loopback that counts the requests it
// gets and answers with answer.
func receiver(t *testing.T, answer http.HandlerFunc) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		answer(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

func ok(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) }

func webhookError(t *testing.T, err error) *engine.WebhookError {
	t.Helper()
	var we *engine.WebhookError
	require.True(t, errors.As(err, &we), "%v", err)
	return we
}

// TestWebhookRefusedAtConnectTime: a loopback receiver is not reached when
// loopback is not allowed, whether the URL names its address or a host
// name that resolves to it (DNS rebinding: the name passed the save-time
// check). The same name reaches the receiver once loopback is allowed, so
// the refusal is the check's, not a failed lookup.
func TestWebhookRefusedAtConnectTime(t *testing.T) {
	t.Parallel()
	srv, hits := receiver(t, ok)
	port := srv.Listener.Addr().(*net.TCPAddr).Port
	rebind := fmt.Sprintf("http://hooks.rebind.test:%d/peykar", port)
	resolver := dnsResolver(t, map[string]netip.Addr{"hooks.rebind.test.": netip.MustParseAddr("127.0.0.1")})
	require.NoError(t, netguard.Policy{}.CheckHost("hooks.rebind.test"), "a name passes on save")
	ctx := context.Background()

	var log bytes.Buffer
	refused := engine.Webhook{Client: engine.NewWebhookClient(engine.WebhookConfig{Resolver: resolver}),
		Logger: slog.New(slog.NewTextHandler(&log, nil))}
	for _, u := range []string{srv.URL + "/peykar", rebind} {
		we := webhookError(t, refused.Post(ctx, u, "s", []byte(`{}`), "t"))
		require.False(t, we.Temporary, "an address not allowed is final")
		host, _ := url.Parse(u)
		require.Equal(t, "webhook "+host.Host+": address not allowed", we.Msg)
	}
	require.Zero(t, hits.Load(), "nothing reached the receiver")
	require.Contains(t, log.String(), fmt.Sprintf("host=hooks.rebind.test:%d address=127.0.0.1 class=loopback", port),
		"the operator's log names the address the name resolved to")

	allowed := engine.Webhook{Client: engine.NewWebhookClient(engine.WebhookConfig{Policy: loopbackAllowed, Resolver: resolver})}
	require.NoError(t, allowed.Post(ctx, rebind, "s", []byte(`{}`), "t"))
	require.EqualValues(t, 1, hits.Load())

	// A zero Webhook is as strict as no allow-list.
	require.ErrorContains(t, engine.Webhook{}.Post(ctx, srv.URL, "", []byte(`{}`), "t"), "address not allowed")
	require.ErrorContains(t, engine.Webhook{}.Post(ctx, "http://user:pw@hooks.example/", "", []byte(`{}`), "t"), "user:pass@")
	require.EqualValues(t, 1, hits.Load())
}

// TestWebhookAnswersKeepStatusOnly: whatever a receiver answers, the error
// keeps the status code and its standard text, never the body; a redirect
// is not followed (its target is never asked).
func TestWebhookAnswersKeepStatusOnly(t *testing.T) {
	t.Parallel()
	target, targetHits := receiver(t, ok)
	const body = "root:x:0:0:INTERNAL-SECRET"
	srv, _ := receiver(t, func(w http.ResponseWriter, r *http.Request) {
		var code int
		_, _ = fmt.Sscanf(r.URL.Path, "/%d", &code)
		if code/100 == 3 {
			w.Header().Set("Location", target.URL+"/internal")
		}
		w.WriteHeader(code)
		_, _ = io.WriteString(w, body)
	})
	host := srv.Listener.Addr().String()
	hook := engine.Webhook{Client: engine.NewWebhookClient(engine.WebhookConfig{Policy: loopbackAllowed})}
	for _, tc := range []struct {
		code      int
		msg       string
		temporary bool
	}{
		{500, "answered 500 Internal Server Error", true},
		{503, "answered 503 Service Unavailable", true},
		{429, "answered 429 Too Many Requests", true},
		{599, "answered 599", true},
		{404, "refused with 404 Not Found", false},
		{401, "refused with 401 Unauthorized", false},
		{302, "answered 302 Found: redirect not followed", false},
		{307, "answered 307 Temporary Redirect: redirect not followed", false},
	} {
		we := webhookError(t, hook.Post(context.Background(), fmt.Sprintf("%s/%d", srv.URL, tc.code), "s", []byte(`{}`), "t"))
		require.Equal(t, "webhook "+host+" "+tc.msg, we.Msg)
		require.Equal(t, tc.code, we.Status)
		require.Equal(t, tc.temporary, we.Temporary, tc.code)
		require.NotContains(t, we.Error(), "INTERNAL")
	}
	require.Zero(t, targetHits.Load(), "redirects are not followed")
	require.NoError(t, hook.Post(context.Background(), srv.URL+"/204", "s", []byte(`{}`), "t"))
}

// TestWebhookChannelRefusedAtConnectTime: a webhook campaign saved while
// loopback was allowed, sent by an engine that no longer allows it: every
// delivery fails for good with "address not allowed" (no retries), the
// receiver sees nothing and the campaign finishes.
func TestWebhookChannelRefusedAtConnectTime(t *testing.T) {
	t.Parallel()
	b := setupWebhooks(t, nil, engine.WebhookConfig{})
	b.svc.WebhookPolicy = loopbackAllowed // the operator allowed it when the campaign was saved
	ctx := context.Background()
	srv, hits := receiver(t, ok)
	c := b.webhookCampaign(t, srv.URL+"/sms")
	_, err := b.svc.Launch(ctx, c.ID)
	require.NoError(t, err)
	b.waitStatus(t, c.ID, campaigns.StatusFinished, 30*time.Second)
	var status, lastError string
	var attempts int
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT status, last_error, attempts FROM deliveries WHERE campaign_id = $1`, c.ID).Scan(&status, &lastError, &attempts))
	require.Equal(t, "failed", status)
	require.Equal(t, "webhook "+srv.Listener.Addr().String()+": address not allowed", lastError)
	require.Equal(t, 1, attempts, "not retried")
	require.Zero(t, hits.Load())
}

// TestWebhookChannelStoresNoBody: a receiver's answer body never reaches
// last_error, which managers can read.
func TestWebhookChannelStoresNoBody(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	ctx := context.Background()
	srv, _ := receiver(t, func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, `{"error":"db password is hunter2"}`)
	})
	c := b.webhookCampaign(t, srv.URL+"/sms")
	_, err := b.svc.Launch(ctx, c.ID)
	require.NoError(t, err)
	b.waitStatus(t, c.ID, campaigns.StatusFinished, 30*time.Second)
	var status, lastError string
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT status, last_error FROM deliveries WHERE campaign_id = $1`, c.ID).Scan(&status, &lastError))
	require.Equal(t, "failed", status)
	require.Equal(t, "webhook "+srv.Listener.Addr().String()+" refused with 400 Bad Request", lastError)
	require.NotContains(t, lastError, "hunter2")
}

// webhookCampaign is a draft webhook-channel campaign to one contact.
func (b *bundle) webhookCampaign(t *testing.T, hookURL string) campaigns.Campaign {
	t.Helper()
	c := b.seed(t, 1, 0)
	c.Channel = campaigns.ChannelWebhook
	c.Settings.Webhook = &campaigns.WebhookSettings{URL: hookURL}
	require.NoError(t, b.svc.Update(context.Background(), &c))
	return c
}

// TestRuleWebhookSecretNotInJobArgs: the rule action's job carries the
// campaign id, not the signing secret (River UI shows job arguments); the
// worker signs with the secret it reads when it runs. An action whose host
// resolves to the cloud metadata address is cancelled with "address not
// allowed", not retried.
func TestRuleWebhookSecretNotInJobArgs(t *testing.T) {
	t.Parallel()
	resolver := dnsResolver(t, map[string]netip.Addr{"metadata.test.": netip.MustParseAddr("169.254.169.254")})
	b := setupWebhooks(t, nil, engine.WebhookConfig{Policy: loopbackAllowed, Resolver: resolver})
	ctx := context.Background()
	const secret = "whsec_rule-secret-never-in-args"
	got := make(chan *http.Request, 4)
	bodies := make(chan string, 4)
	srv, _ := receiver(t, func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got <- r
		bodies <- string(body)
	})
	c := b.seed(t, 1, 0)
	c.Settings.Webhook = &campaigns.WebhookSettings{Secret: secret}
	c.Rules = []campaigns.Rule{{Name: "on sent", On: "sent", Actions: []campaigns.Action{
		{Type: "webhook", URL: srv.URL + "/crm"}, {Type: "webhook", URL: "http://metadata.test/latest/meta-data/"}}}}
	require.NoError(t, b.svc.Update(ctx, &c))
	_, err := b.svc.Launch(ctx, c.ID)
	require.NoError(t, err)

	var r *http.Request
	select {
	case r = <-got:
	case <-time.After(30 * time.Second):
		t.Fatal("the rule's webhook never arrived")
	}
	body := <-bodies
	sig := r.Header.Get("X-Peykar-Signature")
	require.Equal(t, "sha256="+engine.Sign(secret, r.Header.Get("X-Peykar-Timestamp"), []byte(body)), sig, "signed with the campaign's secret")

	require.Eventually(t, func() bool {
		var n int
		_ = b.pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = 'webhook' AND state IN ('completed', 'cancelled')`).Scan(&n)
		return n == 2
	}, 30*time.Second, 20*time.Millisecond)
	rows, err := b.pool.Query(ctx, `SELECT args::text, state, coalesce(errors::text, '') FROM river_job WHERE kind = 'webhook' ORDER BY id`)
	require.NoError(t, err)
	defer rows.Close()
	var states []string
	for rows.Next() {
		var args, state, errText string
		require.NoError(t, rows.Scan(&args, &state, &errText))
		require.NotContains(t, args, secret)
		require.NotContains(t, args, `"secret"`)
		require.Contains(t, args, fmt.Sprintf(`"campaign_id": %d`, c.ID))
		states = append(states, state)
		if state == "cancelled" {
			require.Contains(t, errText, "webhook metadata.test: address not allowed")
			require.NotContains(t, errText, "169.254")
		}
	}
	require.NoError(t, rows.Err())
	require.ElementsMatch(t, []string{"completed", "cancelled"}, states)
}
