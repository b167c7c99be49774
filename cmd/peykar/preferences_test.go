package main

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/campaigns"
	"github.com/peykar/peykar/campaigns/contacts"
	"github.com/peykar/peykar/campaigns/deliveries"
	"github.com/peykar/peykar/campaigns/topics"
	"github.com/peykar/peykar/internal/factory"
)

// prefsFixture makes a contact subscribed to "News" (of the public topics
// News and Offers, and a private one), a campaign in lang to News, and its
// delivery to the contact; it returns the preference page's URL.
func prefsFixture(t *testing.T, m *Main, lang, email string) (pageURL string, contactID, deliveryID int64) {
	t.Helper()
	ctx := context.Background()
	ct := factory.Contact(t, m.pool, factory.Email(email), factory.Name("Sara"))
	var ids []int64
	for _, n := range []string{"News " + lang, "Offers " + lang, "Staff only " + lang} {
		name, public := n, !strings.HasPrefix(n, "Staff")
		in := topics.Input{Name: &name, Public: &public}
		if !public {
			in.Public = nil
		}
		tp, err := topics.Create(ctx, m.pool, in)
		require.NoError(t, err)
		ids = append(ids, tp.ID)
	}
	_, err := topics.Set(ctx, m.pool, ct.ID, ids[0], topics.Subscribed, topics.Source{Kind: topics.SourceForm})
	require.NoError(t, err)
	c := campaigns.Campaign{Name: "Spring " + lang, TopicIDs: ids[:1], From: campaigns.Address{Name: "Shop", Email: "news@shop.example"},
		Steps: []campaigns.Step{{Key: "main"}}, Settings: campaigns.Settings{Language: lang}}
	require.NoError(t, m.campaignService().Create(ctx, &c))
	dids, err := deliveries.Create(ctx, m.pool, c.ID, "main", []int64{ct.ID})
	require.NoError(t, err)
	return m.URL() + m.signer.PreferencesURL("", dids[0]), ct.ID, dids[0]
}

var formToken = regexp.MustCompile(`name="_form" value="([A-Za-z0-9_-]+)"`)

func postPrefs(t *testing.T, u string, v url.Values) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(v.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", "Test phone")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// The preference page over real HTTP: a forged token, or another kind of
// token, is refused with a clear page; the page lists the public topics
// only; a save needs the page's form token (missing, expired or another
// message's: refused, nothing changed); a good save changes the name and
// the topics, with consent recorded from preferences, and confirms.
func TestPreferencePageHTTP(t *testing.T) {
	t.Parallel()
	m := testMain(t)
	ctx := context.Background()
	page, contactID, deliveryID := prefsFixture(t, m, "en", "sara@example.com")
	_, _, otherDelivery := prefsFixture(t, m, "fa", "ali@example.com")

	code, body := get(t, m.URL()+"/t/p/forged-token-AAAAAAAAAAAAAAAA")
	require.Equal(t, http.StatusNotFound, code)
	require.Contains(t, body, "This preferences link is not valid.")
	require.NotContains(t, body, "error")
	code, _ = get(t, m.URL()+strings.Replace(m.signer.UnsubscribeURL("", deliveryID), "/t/u/", "/t/p/", 1))
	require.Equal(t, http.StatusNotFound, code, "an unsubscribe token does not open the page")

	code, body = get(t, page)
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, `<html lang="en" dir="ltr">`)
	require.Contains(t, body, "News en")
	require.Contains(t, body, "Offers en")
	require.NotContains(t, body, "Staff only", "private topics are not offered")
	require.Regexp(t, `id="topic-\d+" name="topic" value="\d+" checked>\s*<label[^>]*><bdi>News en`, body)
	tok := formToken.FindStringSubmatch(body)
	require.NotNil(t, tok)

	subs, err := topics.ForContact(ctx, m.pool, contactID)
	require.NoError(t, err)
	var news, offers int64
	for _, mm := range regexp.MustCompile(`value="(\d+)"[^>]*>\s*<label[^>]*><bdi>(\w+) en`).FindAllStringSubmatch(body, -1) {
		id := mustInt(t, mm[1])
		if mm[2] == "News" {
			news = id
		} else {
			offers = id
		}
	}
	require.NotZero(t, news)
	require.NotZero(t, offers)
	want := url.Values{"name": {"Sara Ahmadi"}, "topic": {itoa(offers)}}

	for _, bad := range []string{"", m.signer.PreferencesFormToken(deliveryID, time.Now().Add(-time.Minute)), m.signer.PreferencesFormToken(otherDelivery, time.Now().Add(time.Hour))} {
		v := url.Values{"_form": {bad}}
		for k, x := range want {
			v[k] = x
		}
		code, body = postPrefs(t, page, v)
		require.Equal(t, http.StatusBadRequest, code)
		require.Contains(t, body, "Nothing was changed")
	}
	after, err := topics.ForContact(ctx, m.pool, contactID)
	require.NoError(t, err)
	require.Equal(t, subs, after, "refused saves change nothing")

	want.Set("_form", tok[1])
	code, body = postPrefs(t, page, want)
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, "Your preferences are saved.")
	ct, err := contacts.Get(ctx, m.pool, contactID)
	require.NoError(t, err)
	require.Equal(t, "Sara Ahmadi", ct.Name)
	require.Equal(t, contacts.StatusActive, ct.Status)
	state := map[int64]topics.Status{}
	after, err = topics.ForContact(ctx, m.pool, contactID)
	require.NoError(t, err)
	for _, s := range after {
		state[s.TopicID] = s.Status
	}
	require.Equal(t, map[int64]topics.Status{news: topics.Unsubscribed, offers: topics.Subscribed}, state)
	hist, err := topics.History(ctx, m.pool, contactID, 0, 2)
	require.NoError(t, err)
	for _, h := range hist {
		require.Equal(t, "preferences", h.Source)
		require.Equal(t, "127.0.0.1", *h.IP)
		require.Equal(t, "Test phone", h.UserAgent)
	}

	// Unsubscribe from everything: email stops, the page says so.
	code, body = postPrefs(t, page, url.Values{"_form": {tok[1]}, "name": {"Sara Ahmadi"}, "topic": {itoa(offers)}, "unsubscribe_all": {"1"}})
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, `id="email-off"`)
	ok, err := contacts.IsSendableOn(ctx, m.pool, contacts.ChannelEmail, contactID)
	require.NoError(t, err)
	require.False(t, ok)
}

func mustInt(t *testing.T, s string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(s, 10, 64)
	require.NoError(t, err)
	return n
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
