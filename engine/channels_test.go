package engine_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/campaigns"
	"github.com/peykar/peykar/campaigns/contacts"
	"github.com/peykar/peykar/campaigns/preferences"
	"github.com/peykar/peykar/campaigns/topics"
)

// launchTo creates and runs a campaign like base to topic ids (none: the
// whole segment) on base's channel, and waits until it finished.
func (b *bundle) launchTo(t *testing.T, base campaigns.Campaign, name string, topicIDs ...int64) campaigns.Campaign {
	t.Helper()
	ctx := context.Background()
	c := campaigns.Campaign{Name: name, SegmentID: base.SegmentID, TopicIDs: topicIDs, Channel: base.Channel,
		From: base.From, Steps: []campaigns.Step{{Key: "main", TemplateID: base.Steps[0].TemplateID}}, Settings: base.Settings}
	if c.Settings.Webhook != nil {
		w := *c.Settings.Webhook
		w.Secret = ""
		c.Settings.Webhook = &w
	}
	require.NoError(t, b.svc.Create(ctx, &c))
	_, err := b.svc.Launch(ctx, c.ID)
	require.NoError(t, err)
	b.waitStatus(t, c.ID, campaigns.StatusFinished, 30*time.Second)
	return c
}

// deliveryOf is the id of the campaign's delivery to email.
func (b *bundle) deliveryOf(t *testing.T, campaignID int64, email string) int64 {
	t.Helper()
	var id int64
	require.NoError(t, b.pool.QueryRow(context.Background(), `SELECT d.id FROM deliveries d JOIN contacts c ON c.id = d.contact_id
		WHERE d.campaign_id = $1 AND c.email = $2`, campaignID, email).Scan(&id))
	return id
}

func publicTopic(t *testing.T, b *bundle, name string) int64 {
	t.Helper()
	yes := true
	tp, err := topics.Create(context.Background(), b.pool, topics.Input{Name: &name, Public: &yes})
	require.NoError(t, err)
	return tp.ID
}

// The preference centre's save changes one topic: the next campaign to
// that topic skips the contact while another topic still reaches them; the
// name is saved; each change is a consent record from preferences with the
// IP and user agent. The one-click unsubscribe of a campaign to a topic
// leaves that topic only, and "unsubscribe from everything" stops email.
func TestPreferencesChangeWhatTopicsReach(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	ctx := context.Background()
	srv := b.trackingServer(t)
	base := b.seed(t, 2, 0)
	news, offers := publicTopic(t, b, "News"), publicTopic(t, b, "Offers")
	for _, who := range []string{addr(0), addr(1)} {
		subscribe(t, b, who, news, topics.Subscribed)
		subscribe(t, b, who, offers, topics.Subscribed)
	}
	first := b.launchTo(t, base, "News 1", news)
	require.Equal(t, 1, b.received(addr(0), "سلام"))
	require.Equal(t, 1, b.received(addr(1), "سلام"))

	// user0 unticks News on their page and renames themself.
	v, err := preferences.Load(ctx, b.pool, b.deliveryOf(t, first.ID, addr(0)))
	require.NoError(t, err)
	require.Len(t, v.Topics, 2)
	src := topics.Source{IP: "203.0.113.7", UserAgent: "Phone browser"}
	v, err = preferences.Save(ctx, b.pool, v.DeliveryID, preferences.Change{Name: "Sara", Topics: []int64{offers}}, src)
	require.NoError(t, err)
	require.Equal(t, "Sara", v.Name)
	c0 := mustContactID(t, b, addr(0))
	hist, err := topics.History(ctx, b.pool, c0, 0, 10)
	require.NoError(t, err)
	require.Equal(t, topics.ChangeUnsubscribed, hist[0].Change)
	require.Equal(t, string(topics.SourcePreferences), hist[0].Source)
	require.Equal(t, news, *hist[0].TopicID)
	require.Equal(t, "203.0.113.7", *hist[0].IP)
	require.Equal(t, "Phone browser", hist[0].UserAgent)

	b.launchTo(t, base, "News 2", news)
	require.Equal(t, 1, b.received(addr(0), "سلام"), "News no longer reaches user0")
	require.Equal(t, 2, b.received(addr(1), "سلام"))
	b.launchTo(t, base, "Offers 1", offers)
	require.Equal(t, 1, b.received(addr(0), "سلام Sara"), "Offers still reaches user0, by their new name")
	require.Equal(t, 3, b.received(addr(1), "سلام"))

	// user1's one-click unsubscribe from a News message leaves News only.
	resp, err := http.Post(srv.URL+b.signer.UnsubscribeURL("", b.deliveryOf(t, first.ID, addr(1))), "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, string(body), `href="/t/p/`, "the confirmation links to the preference centre")
	c1 := mustContactID(t, b, addr(1))
	ct, err := contacts.Get(ctx, b.pool, c1)
	require.NoError(t, err)
	require.Equal(t, contacts.StatusActive, ct.Status, "email itself is not unsubscribed")
	subs, err := topics.ForContact(ctx, b.pool, c1)
	require.NoError(t, err)
	state := map[int64]topics.Status{}
	for _, s := range subs {
		state[s.TopicID] = s.Status
	}
	require.Equal(t, topics.Unsubscribed, state[news])
	require.Equal(t, topics.Subscribed, state[offers])
	// Nobody is left on News: a campaign to it reaches no one.
	none := campaigns.Campaign{Name: "News 3", SegmentID: base.SegmentID, TopicIDs: []int64{news}, From: base.From, Steps: base.Steps}
	require.NoError(t, b.svc.Create(ctx, &none))
	_, err = b.svc.Launch(ctx, none.ID)
	require.ErrorContains(t, err, "topic_ids")
	b.launchTo(t, base, "Offers 2", offers)
	require.Equal(t, 4, b.received(addr(1), "سلام"))

	// Unsubscribe from everything: no email at all, recorded on email.
	_, err = preferences.Save(ctx, b.pool, b.deliveryOf(t, first.ID, addr(1)), preferences.Change{Name: "User 1", Topics: []int64{offers}, UnsubscribeAll: true}, src)
	require.NoError(t, err)
	b.launchTo(t, base, "Offers 3", offers)
	require.Equal(t, 4, b.received(addr(1), "سلام"))
	hist, err = topics.History(ctx, b.pool, c1, 0, 1)
	require.NoError(t, err)
	require.Equal(t, topics.ChannelEmail, hist[0].Channel)
	require.Nil(t, hist[0].TopicID)
	require.Equal(t, topics.ChangeUnsubscribed, hist[0].Change)
}

// Channels are suppressed separately: an email unsubscribe does not stop
// an SMS (webhook, kind sms) campaign, and an SMS opt-out through the
// suppressions API does not stop email. Webhook payloads carry their
// channel and the preference centre's URL.
func TestEmailAndSMSSuppressedSeparately(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	ctx := context.Background()
	srv := b.trackingServer(t)
	var mu sync.Mutex
	got := map[string]map[string]any{}
	hook, _ := receiver(t, func(w http.ResponseWriter, r *http.Request) {
		var p map[string]any
		_ = json.NewDecoder(r.Body).Decode(&p)
		to, _ := p["to"].(map[string]any)
		email, _ := to["email"].(string)
		mu.Lock()
		got[email] = p
		mu.Unlock()
	})
	hits := func(email string) (map[string]any, bool) {
		mu.Lock()
		defer mu.Unlock()
		p, ok := got[email]
		delete(got, email)
		return p, ok
	}
	email := b.seed(t, 2, 0)
	sms := email
	sms.Channel = campaigns.ChannelWebhook
	sms.Settings.Webhook = &campaigns.WebhookSettings{URL: hook.URL + "/sms", Kind: "sms"}

	// user0 unsubscribes from email (the one-click link of an email).
	first := b.launchTo(t, email, "Email 1")
	resp, err := http.Post(srv.URL+b.signer.UnsubscribeURL("", b.deliveryOf(t, first.ID, addr(0))), "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)

	b.launchTo(t, sms, "SMS 1")
	p, ok := hits(addr(0))
	require.True(t, ok, "an email unsubscribe does not stop SMS")
	require.Equal(t, "sms", p["channel"])
	require.Contains(t, p["preferences_url"], "/t/p/")
	_, ok = hits(addr(1))
	require.True(t, ok)

	// user1 opts out of SMS (as a gateway would report it).
	resp, err = http.Post(srv.URL+"/api/v1/suppressions", "application/json", strings.NewReader(`{"value":"`+addr(1)+`","channel":"sms","reason":"STOP"}`))
	require.NoError(t, err)
	var s contacts.Suppression
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&s))
	resp.Body.Close()
	require.Equal(t, http.StatusCreated, resp.StatusCode)
	require.Equal(t, "sms", s.Channel)

	// A signup awaiting its confirmation has consented to no channel.
	_, err = contacts.EnsureForSignup(ctx, b.pool, contacts.ContactInput{Email: "pending@example.com"}, true)
	require.NoError(t, err)

	b.launchTo(t, sms, "SMS 2")
	_, ok = hits(addr(0))
	require.True(t, ok)
	_, ok = hits(addr(1))
	require.False(t, ok, "an SMS opt-out stops SMS")
	_, ok = hits("pending@example.com")
	require.False(t, ok, "an unconfirmed signup gets no SMS")
	b.launchTo(t, email, "Email 2")
	require.Equal(t, 2, b.received(addr(1), "سلام"), "an SMS opt-out does not stop email")
	require.Equal(t, 1, b.received(addr(0), "سلام"), "the email unsubscribe holds")

	// The profile shows both channels; the opt-out is a consent record on sms.
	states, err := contacts.ChannelStates(ctx, b.pool, mustContactID(t, b, addr(1)))
	require.NoError(t, err)
	require.Len(t, states, 2)
	require.True(t, states[0].Sendable)
	require.Equal(t, "sms", states[1].Channel)
	require.False(t, states[1].Sendable)
	hist, err := topics.History(ctx, b.pool, mustContactID(t, b, addr(1)), 0, 1)
	require.NoError(t, err)
	require.Equal(t, "sms", hist[0].Channel)
	require.Equal(t, topics.ChangeSuppressed, hist[0].Change)
	hist, err = topics.History(ctx, b.pool, mustContactID(t, b, addr(0)), 0, 1)
	require.NoError(t, err)
	require.Equal(t, topics.ChannelEmail, hist[0].Channel)
	require.Equal(t, topics.ChangeUnsubscribed, hist[0].Change)
	require.Equal(t, string(topics.SourceLink), hist[0].Source)
}
