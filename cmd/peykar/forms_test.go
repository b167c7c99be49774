package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/campaigns/forms"
	"github.com/peykar/peykar/internal/auth"
)

// formClock is a clock the test moves by hand: a form's render token ages
// only when the test says so, however slowly the machine runs.
type formClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFormClock() *formClock { return &formClock{t: time.Now()} }

func (c *formClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *formClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

var (
	formTokenRe   = regexp.MustCompile(`name="_t" value="([^"]+)"`)
	confirmLinkRe = regexp.MustCompile(`/f/confirm/([A-Za-z0-9._-]+)`)
)

// formAPI is a marketer's API client for the forms tests.
type formAPI struct {
	t     *testing.T
	m     *Main
	token string
}

// call sends a JSON body and decodes the answer into out (when not nil),
// requiring status want.
func (a formAPI) call(want int, method, path string, body, out any) {
	a.t.Helper()
	code, b := do(a.t, a.m, method, path, a.token, body)
	require.Equal(a.t, want, code, "%s %s: %s", method, path, b)
	if out != nil {
		require.NoError(a.t, json.Unmarshal([]byte(b), out), b)
	}
}

// id posts body to path (201) and returns the new id.
func (a formAPI) id(path string, body any) int64 {
	a.t.Helper()
	var v struct {
		ID int64 `json:"id"`
	}
	a.call(http.StatusCreated, http.MethodPost, path, body, &v)
	return v.ID
}

// formPage gets the hosted page and returns its render token.
func formPage(t *testing.T, m *Main, formID int64) string {
	t.Helper()
	code, body := get(t, fmt.Sprintf("%s/f/%d", m.URL(), formID))
	require.Equal(t, http.StatusOK, code, body)
	mt := formTokenRe.FindStringSubmatch(body)
	require.NotNil(t, mt, body)
	return mt[1]
}

// postPublicForm posts values to path as a browser would (urlencoded), without
// following a redirect; it returns the status, the Location and the body.
func postPublicForm(t *testing.T, m *Main, path string, values url.Values) (int, string, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, m.URL()+path, strings.NewReader(values.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) Chrome/130.0 Safari/537.36")
	resp, err := noRedirect.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, resp.Header.Get("Location"), string(b)
}

// waitMails waits until n messages to rcpt are in the catch-all and
// returns the newest one's HTML.
func waitMails(t *testing.T, a formAPI, rcpt string, n int) string {
	t.Helper()
	var id int64
	require.Eventually(t, func() bool {
		var got int
		err := a.m.pool.QueryRow(context.Background(),
			`SELECT count(*), coalesce(max(id), 0) FROM outbox_messages WHERE $1 = ANY(rcpt_to)`, rcpt).Scan(&got, &id)
		return err == nil && got >= n
	}, time.Minute, 20*time.Millisecond, "%d messages to %s", n, rcpt)
	var msg struct {
		Subject string `json:"subject"`
		HTML    string `json:"html"`
	}
	a.call(http.StatusOK, http.MethodGet, fmt.Sprintf("/api/v1/outbox/%d", id), nil, &msg)
	return msg.HTML
}

// contactState is a contact's status and its status on topic.
func contactState(t *testing.T, m *Main, email string, topic int64) (status, sub string) {
	t.Helper()
	err := m.pool.QueryRow(context.Background(), `SELECT c.status, coalesce(ct.status, '')
		FROM contacts c LEFT JOIN contact_topics ct ON ct.contact_id = c.id AND ct.topic_id = $2
		WHERE c.email = $1`, email, topic).Scan(&status, &sub)
	require.NoError(t, err)
	return status, sub
}

// runCampaign creates and launches a campaign of template tpl to segment
// seg restricted to topics, waits for it to finish and returns its id.
func runCampaign(t *testing.T, a formAPI, name string, seg, tpl int64, topicIDs []int64) int64 {
	t.Helper()
	id := a.id("/api/v1/campaigns", map[string]any{"name": name, "segment_id": seg, "channel": "email", "topic_ids": topicIDs,
		"from": map[string]string{"name": "Shop", "email": "news@shop.example"}, "steps": []map[string]any{{"key": "main", "template_id": tpl}}})
	a.call(http.StatusOK, http.MethodPost, fmt.Sprintf("/api/v1/campaigns/%d/launch", id), nil, nil)
	require.Eventually(t, func() bool {
		var c struct {
			Status string `json:"status"`
		}
		code, b := do(t, a.m, http.MethodGet, fmt.Sprintf("/api/v1/campaigns/%d", id), a.token, nil)
		return code == http.StatusOK && json.Unmarshal([]byte(b), &c) == nil && c.Status == "finished"
	}, time.Minute, 20*time.Millisecond, "campaign %s finishes", name)
	return id
}

// reached reports whether the campaign created a delivery for email.
func reached(t *testing.T, m *Main, campaign int64, email string) bool {
	t.Helper()
	var n int
	require.NoError(t, m.pool.QueryRow(context.Background(), `SELECT count(*) FROM deliveries d JOIN contacts c ON c.id = d.contact_id
		WHERE d.campaign_id = $1 AND c.email = $2`, campaign, email).Scan(&n))
	return n > 0
}

// requireCountersMatchRows: the form's counters (API) equal its
// form_events rows.
func requireCountersMatchRows(t *testing.T, a formAPI, formID int64) forms.Stats {
	t.Helper()
	var f forms.Form
	a.call(http.StatusOK, http.MethodGet, fmt.Sprintf("/api/v1/forms/%d", formID), nil, &f)
	raw, err := forms.RawCounts(context.Background(), a.m.pool, formID)
	require.NoError(t, err)
	require.Equal(t, raw.Views, f.Stats.Views)
	require.Equal(t, raw.Submissions, f.Stats.Submissions)
	require.Equal(t, raw.Confirmations, f.Stats.Confirmations)
	require.Equal(t, raw.Rejected, f.Stats.Rejected)
	return f.Stats
}

// TestFormDoubleOptIn: the public form's submit sends a confirmation mail;
// until its link is followed the new contact is pending and no campaign
// (segment or topic) reaches it; confirmed, the next campaign to the topic
// does. The counters equal their rows.
func TestFormDoubleOptIn(t *testing.T) {
	t.Parallel()
	clock := newFormClock()
	m := testMainAt(t, clock.Now)
	a := formAPI{t: t, m: m, token: testToken(t, m, auth.RoleMarketer)}
	news := a.id("/api/v1/topics", map[string]any{"name": "News", "public": true})
	old := a.id("/api/v1/contacts", map[string]any{"email": "old@example.com", "name": "Old"})
	a.call(http.StatusOK, http.MethodPatch, fmt.Sprintf("/api/v1/contacts/%d", old), map[string]any{"topics_add": []int64{news}}, nil)
	tpl := a.id("/api/v1/templates", map[string]string{"name": "n", "subject": "Weekly news", "html": `<p>Hi</p><a href="{{ unsubscribe_url }}">Unsubscribe</a>`})
	everyone := a.id("/api/v1/segments", map[string]string{"name": "Everyone", "rule": "true"})

	var f forms.Form
	a.call(http.StatusCreated, http.MethodPost, "/api/v1/forms", map[string]any{"name": "Footer", "fields": []string{"email", "name"},
		"topic_ids": []int64{news}, "double_opt_in": true, "redirect_url": nil}, &f)
	require.Equal(t, fmt.Sprintf("http://peykar.test/f/%d", f.ID), f.PublicURL)
	require.Contains(t, f.EmbedHTML, fmt.Sprintf(`action="http://peykar.test/f/%d"`, f.ID))
	require.Contains(t, f.EmbedHTML, `name="website"`, "the snippet carries the honeypot")

	resp, err := http.Get(fmt.Sprintf("%s/f/%d", m.URL(), f.ID))
	require.NoError(t, err)
	resp.Body.Close()
	require.Contains(t, resp.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'")
	require.Empty(t, resp.Header.Get("Access-Control-Allow-Origin"))

	tok := formPage(t, m, f.ID)
	clock.Add(3 * time.Second)
	code, loc, body := postPublicForm(t, m, fmt.Sprintf("/f/%d", f.ID), url.Values{"_t": {tok}, "email": {"nika@example.com"}, "name": {"Nika"}, "website": {""}})
	require.Equal(t, http.StatusSeeOther, code, body)
	require.Equal(t, fmt.Sprintf("/f/%d/thanks", f.ID), loc)
	code, body = get(t, m.URL()+loc)
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, "check your inbox")

	html := waitMails(t, a, "nika@example.com", 1)
	link := confirmLinkRe.FindString(html)
	require.NotEmpty(t, link, html)
	status, sub := contactState(t, m, "nika@example.com", news)
	require.Equal(t, "pending", status)
	require.Equal(t, "pending", sub)

	first := runCampaign(t, a, "Before confirming", everyone, tpl, nil)
	require.True(t, reached(t, m, first, "old@example.com"))
	require.False(t, reached(t, m, first, "nika@example.com"), "a pending contact is not reached by a segment campaign")
	second := runCampaign(t, a, "News before", everyone, tpl, []int64{news})
	require.False(t, reached(t, m, second, "nika@example.com"), "nor by a topic campaign")

	code, body = get(t, m.URL()+link)
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, "Yes, subscribe me", "the link shows a button; following it changes nothing")
	status, _ = contactState(t, m, "nika@example.com", news)
	require.Equal(t, "pending", status)
	code, _, body = postPublicForm(t, m, link, nil)
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, "is confirmed")
	status, sub = contactState(t, m, "nika@example.com", news)
	require.Equal(t, "active", status)
	require.Equal(t, "subscribed", sub)
	code, _, body = postPublicForm(t, m, link, nil)
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, "already confirmed", "confirming again changes nothing")

	var change, ip, ua string
	require.NoError(t, m.pool.QueryRow(context.Background(), `SELECT r.change, host(r.ip), r.user_agent FROM consent_records r
		JOIN contacts c ON c.id = r.contact_id WHERE c.email = 'nika@example.com' AND r.source = 'form' ORDER BY r.id DESC LIMIT 1`).Scan(&change, &ip, &ua))
	require.Equal(t, "confirmed", change)
	require.Equal(t, "127.0.0.1", ip)
	require.Contains(t, ua, "Chrome")

	third := runCampaign(t, a, "News after", everyone, tpl, []int64{news})
	require.True(t, reached(t, m, third, "nika@example.com"), "confirmed, the next campaign to the topic reaches her")
	waitMails(t, a, "nika@example.com", 2)

	// The same address again: the same answer, and an existing subscribed
	// contact stays subscribed (never back to pending).
	tok = formPage(t, m, f.ID)
	clock.Add(3 * time.Second)
	code, loc, _ = postPublicForm(t, m, fmt.Sprintf("/f/%d", f.ID), url.Values{"_t": {tok}, "email": {"nika@example.com"}})
	require.Equal(t, http.StatusSeeOther, code)
	require.Equal(t, fmt.Sprintf("/f/%d/thanks", f.ID), loc)
	status, sub = contactState(t, m, "nika@example.com", news)
	require.Equal(t, "active", status)
	require.Equal(t, "subscribed", sub)

	st := requireCountersMatchRows(t, a, f.ID)
	require.Equal(t, forms.Stats{Views: 3, Submissions: 2, Confirmations: 1, SubmissionRate: 2.0 / 3, ConfirmationRate: 0.5}, st)
}

// TestFormSpamProtection: the honeypot, the render token (too fast,
// forged, missing) and the per-IP limit refuse bots and floods without
// storing them; a flood of one address sends at most a few mails;
// expired and forged confirmation links are refused.
func TestFormSpamProtection(t *testing.T) {
	t.Parallel()
	clock := newFormClock()
	m := testMainAt(t, clock.Now)
	a := formAPI{t: t, m: m, token: testToken(t, m, auth.RoleMarketer)}
	var f forms.Form
	a.call(http.StatusCreated, http.MethodPost, "/api/v1/forms", map[string]any{"name": "Shop", "language": "fa",
		"redirect_url": "https://shop.example/thanks"}, &f)
	path := fmt.Sprintf("/f/%d", f.ID)
	contactsNamed := func(email string) int {
		var n int
		require.NoError(t, m.pool.QueryRow(context.Background(), `SELECT count(*) FROM contacts WHERE email = $1`, email).Scan(&n))
		return n
	}

	// A bot fills the honeypot: the same answer as a person, nothing kept.
	tok := formPage(t, m, f.ID)
	clock.Add(3 * time.Second)
	code, loc, _ := postPublicForm(t, m, path, url.Values{"_t": {tok}, "email": {"bot@example.com"}, "website": {"https://spam.example"}})
	require.Equal(t, http.StatusSeeOther, code)
	require.Equal(t, "https://shop.example/thanks", loc)
	require.Zero(t, contactsNamed("bot@example.com"))

	// Too fast (the token is younger than 2 s), forged, or missing (the
	// embed snippet): back to the form with a fresh token, nothing kept.
	tok = formPage(t, m, f.ID)
	for name, v := range map[string]string{"too fast": tok, "forged": tok[:len(tok)-2] + "xx", "missing": ""} {
		code, _, body := postPublicForm(t, m, path, url.Values{"_t": {v}, "email": {"fast@example.com"}})
		require.Equal(t, http.StatusUnprocessableEntity, code, name)
		require.Contains(t, body, "دوباره", "%s: the Persian form asks to press again", name)
		require.Contains(t, body, `dir="rtl"`)
		require.Regexp(t, formTokenRe, body, name)
		require.Contains(t, body, `value="fast@example.com"`, "%s: what was typed is kept", name)
	}
	require.Zero(t, contactsNamed("fast@example.com"))

	// An invalid address: the form again, the field named.
	clock.Add(time.Minute) // the IP's bucket refills
	tok = formPage(t, m, f.ID)
	clock.Add(3 * time.Second)
	code, _, body := postPublicForm(t, m, path, url.Values{"_t": {tok}, "email": {"not an address"}})
	require.Equal(t, http.StatusUnprocessableEntity, code)
	require.Contains(t, body, `aria-invalid="true"`)

	// A flood from one IP with one address: 5 go through (the bucket), the
	// 6th gets 429 with Retry-After; at most 3 confirmation mails go out.
	clock.Add(time.Minute)
	toks := make([]string, 6)
	for i := range toks {
		toks[i] = formPage(t, m, f.ID)
	}
	clock.Add(2 * time.Second) // the clock stands still during the flood: the bucket does not refill
	for i, tok := range toks {
		req, err := http.NewRequest(http.MethodPost, m.URL()+path, strings.NewReader(url.Values{"_t": {tok}, "email": {"flood@example.com"}}.Encode()))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := noRedirect.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		if i < 5 {
			require.Equal(t, http.StatusSeeOther, resp.StatusCode, "submit %d", i)
			continue
		}
		require.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
		require.NotEmpty(t, resp.Header.Get("Retry-After"))
	}
	require.Equal(t, 1, contactsNamed("flood@example.com"))
	var mailed int
	require.NoError(t, m.pool.QueryRow(context.Background(), `SELECT count(*) FILTER (WHERE s.mailed) FROM form_signups s
		JOIN contacts c ON c.id = s.contact_id WHERE c.email = 'flood@example.com'`).Scan(&mailed))
	require.Equal(t, forms.MaxMailsPerAddress, mailed)
	html := waitMails(t, a, "flood@example.com", forms.MaxMailsPerAddress)
	require.Contains(t, html, `dir="rtl"`, "the mail is in the form's language")
	link := confirmLinkRe.FindString(html)
	require.NotEmpty(t, link)

	// A forged link, then the real one after 49 hours.
	code, _, _ = postPublicForm(t, m, link[:len(link)-3]+"abc", nil)
	require.Equal(t, http.StatusNotFound, code)
	clock.Add(49 * time.Hour)
	code, body = get(t, m.URL()+link)
	require.Equal(t, http.StatusGone, code)
	require.Contains(t, body, fmt.Sprintf(`href="/f/%d"`, f.ID), "the expired page leads back to the form")
	code, _, _ = postPublicForm(t, m, link, nil)
	require.Equal(t, http.StatusGone, code)
	status, _ := contactState(t, m, "flood@example.com", 0)
	require.Equal(t, "pending", status)

	st := requireCountersMatchRows(t, a, f.ID)
	require.Equal(t, int64(5), st.Submissions)
	require.Equal(t, int64(1), st.Rejected)
	require.Zero(t, st.Confirmations)
}
