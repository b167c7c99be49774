package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/campaigns/contacts"
	"github.com/peykar/peykar/internal/auth"
	"github.com/peykar/peykar/internal/smtptest"
)

// postMessage posts a transactional message with an Idempotency-Key (when
// not empty) and returns the status, the body and the
// Idempotent-Replayed header.
func postMessage(t *testing.T, m *Main, token, key string, body any) (int, string, string) {
	t.Helper()
	b, err := json.Marshal(body)
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodPost, m.URL()+"/api/v1/messages", bytes.NewReader(b))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(out), resp.Header.Get("Idempotent-Replayed")
}

// createTemplate creates a template through the API (as admin, who alone
// may mark one transactional) and returns its id.
func createTemplate(t *testing.T, m *Main, admin string, body map[string]any) int64 {
	t.Helper()
	code, out := do(t, m, http.MethodPost, "/api/v1/templates", admin, body)
	require.Equal(t, http.StatusCreated, code, out)
	var tpl struct{ ID int64 }
	require.NoError(t, json.Unmarshal([]byte(out), &tpl))
	return tpl.ID
}

// caughtMessage is a message the embedded catch-all caught.
type caughtMessage struct {
	Subject string              `json:"subject"`
	HTML    string              `json:"html"`
	Text    string              `json:"text"`
	Headers map[string][]string `json:"headers"`
}

// caughtFor waits for the catch-all to hold n messages to email and
// returns them, oldest first.
func caughtFor(t *testing.T, m *Main, token, email string, n int) []caughtMessage {
	t.Helper()
	var ids []int64
	require.Eventually(t, func() bool {
		rows, err := m.pool.Query(context.Background(), `SELECT id FROM outbox_messages WHERE $1 = ANY(rcpt_to) ORDER BY id`, email)
		require.NoError(t, err)
		ids = ids[:0]
		for rows.Next() {
			var id int64
			require.NoError(t, rows.Scan(&id))
			ids = append(ids, id)
		}
		require.NoError(t, rows.Err())
		return len(ids) >= n
	}, time.Minute, 20*time.Millisecond, "%d messages to %s", n, email)
	out := make([]caughtMessage, len(ids))
	for i, id := range ids {
		code, body := do(t, m, http.MethodGet, fmt.Sprintf("/api/v1/outbox/%d", id), token, nil)
		require.Equal(t, http.StatusOK, code, body)
		require.NoError(t, json.Unmarshal([]byte(body), &out[i]))
	}
	return out
}

// messageStatus waits until message id leaves "queued" and returns its
// GET answer.
func messageStatus(t *testing.T, m *Main, token string, id int64) map[string]any {
	t.Helper()
	var v map[string]any
	require.Eventually(t, func() bool {
		code, body := do(t, m, http.MethodGet, fmt.Sprintf("/api/v1/messages/%d", id), token, nil)
		require.Equal(t, http.StatusOK, code, body)
		v = map[string]any{}
		require.NoError(t, json.Unmarshal([]byte(body), &v))
		return v["status"] != "queued"
	}, time.Minute, 20*time.Millisecond, "message %d stays queued", id)
	return v
}

func messageID(t *testing.T, body string) int64 {
	t.Helper()
	var a struct {
		ID     int64  `json:"id"`
		Status string `json:"status"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &a), body)
	require.Equal(t, "queued", a.Status, body)
	require.NotZero(t, a.ID, body)
	return a.ID
}

// TestMessagesIdempotencyKey sends a receipt with its order id, replays
// its key sequentially and from eight concurrent clients (one message,
// one email, the first answer every time), and refuses the key with a
// different body.
func TestMessagesIdempotencyKey(t *testing.T) {
	t.Parallel()
	m := testMain(t)
	admin, marketer := testToken(t, m, auth.RoleAdmin), testToken(t, m, auth.RoleMarketer)
	tpl := createTemplate(t, m, admin, map[string]any{"name": "receipt", "subject": "Receipt {{ .Data.order_id }}",
		"html": `<p>Order {{ .Data.order_id }} for {{ .Contact.Email }}. <a href="https://shop.example/orders">Your orders</a></p>`})
	body := map[string]any{"template_id": tpl, "to": "Sara@Example.COM", "data": map[string]any{"order_id": "A-1"}}

	code, first, replayed := postMessage(t, m, marketer, "order-A-1", body)
	require.Equal(t, http.StatusAccepted, code, first)
	require.Empty(t, replayed)
	id := messageID(t, first)
	code, again, replayed := postMessage(t, m, marketer, "order-A-1", body)
	require.Equal(t, http.StatusAccepted, code, again)
	require.JSONEq(t, first, again, "the same key answers the first answer")
	require.Equal(t, "true", replayed)

	v := messageStatus(t, m, marketer, id)
	require.Equal(t, "sent", v["status"], v)
	require.Equal(t, true, v["contact_created"])
	require.NotNil(t, v["delivery_id"])
	require.NotNil(t, v["sent_at"])
	msgs := caughtFor(t, m, marketer, "Sara@example.com", 1)
	require.Equal(t, "Receipt A-1", msgs[0].Subject)
	require.Contains(t, msgs[0].HTML, "Order A-1 for Sara@example.com")
	require.NotContains(t, msgs[0].Subject, "[test]")

	// The created contact says where it came from.
	var cid int64
	require.NoError(t, m.pool.QueryRow(context.Background(), `SELECT contact_id FROM messages WHERE id = $1`, id).Scan(&cid))
	c, err := contacts.Get(context.Background(), m.pool, cid)
	require.NoError(t, err)
	require.Contains(t, c.Tags, "transactional-api")

	// Eight clients at once with one new key: one message.
	body2 := map[string]any{"template_id": tpl, "to": "sara@example.com", "data": map[string]any{"order_id": "A-2"}}
	var wg sync.WaitGroup
	answers := make([]string, 8)
	codes := make([]int, 8)
	for i := range answers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i], answers[i], _ = postMessage(t, m, marketer, "order-A-2", body2)
		}()
	}
	wg.Wait()
	for i := range answers {
		require.Equal(t, http.StatusAccepted, codes[i], answers[i])
		require.JSONEq(t, answers[0], answers[i])
	}
	id2 := messageID(t, answers[0])
	require.Equal(t, "sent", messageStatus(t, m, marketer, id2)["status"])

	// The same key with another body is refused, and says so.
	code, out, _ := postMessage(t, m, marketer, "order-A-2", map[string]any{"template_id": tpl, "to": "sara@example.com",
		"data": map[string]any{"order_id": "A-3"}})
	require.Equal(t, http.StatusUnprocessableEntity, code, out)
	require.Contains(t, out, "different request")
	require.Contains(t, out, `"field":"Idempotency-Key"`)

	var n int
	require.NoError(t, m.pool.QueryRow(context.Background(), `SELECT count(*) FROM messages`).Scan(&n))
	require.Equal(t, 2, n)
	msgs = caughtFor(t, m, marketer, "Sara@example.com", 2)
	require.Len(t, msgs, 2, "one email per key")
	require.Equal(t, "Receipt A-2", msgs[1].Subject)

	// A key older than a day is released: the same key sends again.
	_, err = m.pool.Exec(context.Background(), `UPDATE messages SET created_at = created_at - interval '25 hours' WHERE id = $1`, id)
	require.NoError(t, err) // ageing the row: no owner function moves a message back in time
	code, out, replayed = postMessage(t, m, marketer, "order-A-1", body)
	require.Equal(t, http.StatusAccepted, code, out)
	require.Empty(t, replayed)
	require.NotEqual(t, id, messageID(t, out))
}

// trackedURL is a tracking link (open pixel or click) in a caught message.
var trackedURL = regexp.MustCompile(`http://peykar\.test(/t/[oc]/[A-Za-z0-9_\-.]+)`)

// follow requests a tracking path as a person's browser would.
func follow(t *testing.T, m *Main, path string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, m.URL()+path, nil)
	require.NoError(t, err)
	req.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36")
	resp, err := noRedirect.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	return resp.StatusCode
}

// TestMessagesSuppressionsAndReport: a receipt from a template the admin
// marked transactional reaches a contact who unsubscribed from marketing
// (no List-Unsubscribe, no Precedence: bulk) but not a bounced one; a
// message that is not transactional is suppressed for both and counted;
// transactional:true on an unmarked template is refused. The receipt's
// open and click show in its transactional campaign's report, which is
// not paused, edited or duplicated as a campaign. Managers read, never
// send.
func TestMessagesSuppressionsAndReport(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m := testMain(t)
	admin, marketer, manager := testToken(t, m, auth.RoleAdmin), testToken(t, m, auth.RoleMarketer), testToken(t, m, auth.RoleManager)
	receipt := createTemplate(t, m, admin, map[string]any{"name": "receipt", "subject": "Your receipt", "transactional": true,
		"html": `<p>Thanks. <a href="https://shop.example/orders">Your orders</a></p>`})
	news := createTemplate(t, m, admin, map[string]any{"name": "news", "subject": "News",
		"html": `<p>News. <a href="{{ unsubscribe_url }}">Unsubscribe</a></p>`})
	ids := map[string]int64{}
	for email, status := range map[string]string{"unsub@example.com": contacts.StatusUnsubscribed, "hard@example.com": contacts.StatusBounced, "ok@example.com": ""} {
		code, body := do(t, m, http.MethodPost, "/api/v1/contacts", marketer, map[string]any{"email": email})
		require.Equal(t, http.StatusCreated, code, body)
		var c struct{ ID int64 }
		require.NoError(t, json.Unmarshal([]byte(body), &c))
		ids[email] = c.ID
		if status != "" {
			require.NoError(t, contacts.Suppress(ctx, m.pool, c.ID, status))
		}
	}
	send := func(tpl int64, email string, transactional bool) int64 {
		code, body, _ := postMessage(t, m, marketer, "", map[string]any{"template_id": tpl, "contact_id": ids[email], "transactional": transactional})
		require.Equal(t, http.StatusAccepted, code, body)
		return messageID(t, body)
	}
	receiptUnsub := send(receipt, "unsub@example.com", true)
	receiptHard := send(receipt, "hard@example.com", true)
	newsUnsub := send(news, "unsub@example.com", false)
	newsOK := send(news, "ok@example.com", false)

	require.Equal(t, "sent", messageStatus(t, m, marketer, receiptUnsub)["status"])
	v := messageStatus(t, m, marketer, receiptHard)
	require.Equal(t, "suppressed", v["status"])
	require.Contains(t, v["detail"], "bounced")
	v = messageStatus(t, m, marketer, newsUnsub)
	require.Equal(t, "suppressed", v["status"])
	require.Contains(t, v["detail"], "unsubscribed")
	require.Equal(t, "sent", messageStatus(t, m, marketer, newsOK)["status"])

	got := caughtFor(t, m, marketer, "unsub@example.com", 1)
	require.Len(t, got, 1, "only the receipt reaches the unsubscribed contact")
	require.Equal(t, "Your receipt", got[0].Subject)
	require.Empty(t, got[0].Headers["List-Unsubscribe"], got[0].Headers)
	require.Empty(t, got[0].Headers["Precedence"], got[0].Headers)
	plain := caughtFor(t, m, marketer, "ok@example.com", 1)
	require.NotEmpty(t, plain[0].Headers["List-Unsubscribe"], "marketing-like messages keep List-Unsubscribe")
	var toHard int
	require.NoError(t, m.pool.QueryRow(ctx, `SELECT count(*) FROM outbox_messages WHERE 'hard@example.com' = ANY(rcpt_to)`).Scan(&toHard))
	require.Zero(t, toHard)

	code, body, _ := postMessage(t, m, marketer, "", map[string]any{"template_id": news, "contact_id": ids["ok@example.com"], "transactional": true})
	require.Equal(t, http.StatusUnprocessableEntity, code, body)
	require.Contains(t, body, `"field":"transactional"`)
	require.Contains(t, body, "not marked transactional")

	// The receipt's open and click, in its campaign's report.
	links := trackedURL.FindAllStringSubmatch(strings.ReplaceAll(got[0].HTML, "&amp;", "&"), -1)
	require.Len(t, links, 2, got[0].HTML) // the click link and the pixel
	for _, l := range links {
		require.Contains(t, []int{http.StatusOK, http.StatusFound}, follow(t, m, l[1]))
	}
	var campaignID int64
	require.NoError(t, m.pool.QueryRow(ctx, `SELECT campaign_id FROM messages WHERE id = $1`, receiptUnsub).Scan(&campaignID))
	var r struct {
		Metrics map[string]any `json:"metrics"`
		Links   []struct {
			URL    string `json:"url"`
			Clicks int    `json:"total_clicks"`
		} `json:"links"`
	}
	var last string
	ok := assert.Eventually(t, func() bool {
		code, body := do(t, m, http.MethodGet, fmt.Sprintf("/api/v1/campaigns/%d/report", campaignID), manager, nil)
		last = body
		require.Equal(t, http.StatusOK, code, body)
		require.NoError(t, json.Unmarshal([]byte(body), &r))
		// An open and a click a moment after the send look like a mail
		// scanner to the classifier: counted, flagged machine (total_*).
		return r.Metrics["total_unique_opens"] == float64(1) && r.Metrics["total_unique_clicks"] == float64(1)
	}, time.Minute, 20*time.Millisecond, "the report counts the receipt's open and click")
	require.True(t, ok, last)
	require.Equal(t, float64(1), r.Metrics["sent"], "the bounced contact's receipt is suppressed, not sent")
	require.Len(t, r.Links, 1)
	require.Equal(t, "https://shop.example/orders", r.Links[0].URL)
	require.Equal(t, 1, r.Links[0].Clicks)

	// The campaign carries messages: not a blast to pause, edit or copy.
	path := fmt.Sprintf("/api/v1/campaigns/%d", campaignID)
	code, body = do(t, m, http.MethodGet, path, manager, nil)
	require.Equal(t, http.StatusOK, code, body)
	require.Contains(t, body, fmt.Sprintf(`"transactional_template_id":%d`, receipt))
	for _, action := range []string{"/pause", "/duplicate"} {
		code, body = do(t, m, http.MethodPost, path+action, marketer, nil)
		require.Equal(t, http.StatusConflict, code, body)
		require.Contains(t, body, "transactional messages")
	}

	// Its page and the campaign list show it as transactional, in English
	// and Persian, without the campaign actions.
	for lang, badge := range map[string]string{"en": "transactional", "fa": "تراکنشی"} {
		code, page := getLang(t, m, admin, lang, fmt.Sprintf("/admin/campaigns/%d", campaignID))
		require.Equal(t, http.StatusOK, code, page)
		require.Contains(t, page, `id="transactional-note"`)
		require.Contains(t, page, badge)
		require.NotContains(t, page, `id="action-edit"`)
		require.NotContains(t, page, `/pause"`)
		code, page = getLang(t, m, admin, lang, "/admin/campaigns")
		require.Equal(t, http.StatusOK, code, page)
		require.Contains(t, page, `<span class="badge transactional">`+badge+`</span>`)
	}

	// Managers read messages; they do not send them.
	code, body, _ = postMessage(t, m, manager, "", map[string]any{"template_id": news, "contact_id": ids["ok@example.com"]})
	require.Equal(t, http.StatusForbidden, code, body)
	code, body = do(t, m, http.MethodGet, fmt.Sprintf("/api/v1/messages/%d", newsOK), manager, nil)
	require.Equal(t, http.StatusOK, code, body)
}

// TestMessagesForgedBodies: a body that is not the API's shape, or too
// large, is refused before anything is stored.
func TestMessagesForgedBodies(t *testing.T) {
	t.Parallel()
	m := testMain(t)
	marketer := testToken(t, m, auth.RoleMarketer)
	for _, c := range []struct {
		body string
		code int
		want string
	}{
		{`{"template_id":1,"to":"a@example.com","bcc":"x@example.com"}`, http.StatusUnprocessableEntity, `"field":"bcc"`},
		{`{"template_id":"1","to":"a@example.com"}`, http.StatusUnprocessableEntity, `"field":"template_id"`},
		{`{"template_id":1,"to":"a@example.com"} {"again":1}`, http.StatusBadRequest, "unexpected data"},
		{`{"template_id":1,"to":"a@example.com","data":{"x":"` + strings.Repeat("a", 40<<10) + `"}}`, http.StatusRequestEntityTooLarge, "too large"},
	} {
		req, err := http.NewRequest(http.MethodPost, m.URL()+"/api/v1/messages", strings.NewReader(c.body))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+marketer)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.NoError(t, err)
		require.Equal(t, c.code, resp.StatusCode, string(b))
		require.Contains(t, string(b), c.want)
	}
	var n int
	require.NoError(t, m.pool.QueryRow(context.Background(), `SELECT count(*) FROM messages`).Scan(&n))
	require.Zero(t, n)
}

// TestTransactionalMarkIsAdminOnly: only an admin sets or clears a
// template's transactional mark, through the API or the template page;
// a marketer's save keeps the mark as it is.
func TestTransactionalMarkIsAdminOnly(t *testing.T) {
	t.Parallel()
	m := testMain(t)
	admin, marketer := testToken(t, m, auth.RoleAdmin), testToken(t, m, auth.RoleMarketer)
	receipt := map[string]any{"name": "receipt", "subject": "Receipt", "html": "<p>Thanks</p>", "transactional": true}
	code, body := do(t, m, http.MethodPost, "/api/v1/templates", marketer, receipt)
	require.Equal(t, http.StatusForbidden, code, body)
	require.Contains(t, body, "only an admin may mark a template transactional")
	id := createTemplate(t, m, admin, receipt)
	path := fmt.Sprintf("/api/v1/templates/%d", id)
	receipt["subject"] = "Your receipt"
	code, body = do(t, m, http.MethodPut, path, marketer, receipt)
	require.Equal(t, http.StatusOK, code, "a marketer edits the template, keeping the mark: %s", body)
	receipt["transactional"] = false
	code, body = do(t, m, http.MethodPut, path, marketer, receipt)
	require.Equal(t, http.StatusForbidden, code, body)
	code, body = do(t, m, http.MethodPut, path, admin, receipt)
	require.Equal(t, http.StatusOK, code, body)
	require.Contains(t, body, `"transactional":false`)

	// The template page: the checkbox is disabled for a marketer, who is told why.
	code, page := getLang(t, m, marketer, "en", fmt.Sprintf("/admin/templates/%d", id))
	require.Equal(t, http.StatusOK, code, page)
	require.Regexp(t, `id="transactional"[^>]*disabled`, page)
	require.Contains(t, page, "Only an admin may change this mark")
	code, page = getLang(t, m, admin, "fa", fmt.Sprintf("/admin/templates/%d", id))
	require.Equal(t, http.StatusOK, code, page)
	require.NotRegexp(t, `id="transactional"[^>]*disabled`, page)
	require.Contains(t, page, "فقط مدیر سامانه می‌تواند این علامت را تغییر دهد")
}

// TestMessagesRetryTemporaryFailure: a 4xx from the mail server leaves the
// message queued and its job retries it (after 5 s), once the server takes
// it: one email, status sent, two attempts.
func TestMessagesRetryTemporaryFailure(t *testing.T) {
	t.Parallel()
	var refusing atomic.Bool
	refusing.Store(true)
	sink, err := smtptest.Start(smtptest.Options{Reject: func(string) *smtp.SMTPError {
		if refusing.Load() {
			return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"}
		}
		return nil
	}})
	require.NoError(t, err)
	t.Cleanup(func() { sink.Close() })
	m := testMain(t, "SMTP_URL", fmt.Sprintf("smtp://127.0.0.1:%d?tls=none&pool=1", sink.Port()))
	admin, marketer := testToken(t, m, auth.RoleAdmin), testToken(t, m, auth.RoleMarketer)
	tpl := createTemplate(t, m, admin, map[string]any{"name": "reset", "subject": "Reset", "html": "<p>Code {{ .Data.code }}</p>", "transactional": true})
	code, body, _ := postMessage(t, m, marketer, "reset-1", map[string]any{"template_id": tpl, "to": "sara@example.com",
		"data": map[string]any{"code": "123456"}, "transactional": true})
	require.Equal(t, http.StatusAccepted, code, body)
	id := messageID(t, body)
	require.Eventually(t, func() bool {
		var attempts int
		var last string
		err := m.pool.QueryRow(context.Background(), `SELECT d.attempts, d.last_error FROM deliveries d JOIN messages m ON m.delivery_id = d.id
			WHERE m.id = $1 AND d.status = 'queued'`, id).Scan(&attempts, &last)
		return err == nil && attempts == 1 && strings.Contains(last, "451")
	}, time.Minute, 20*time.Millisecond, "the first attempt is refused for now")
	require.Zero(t, sink.Count())
	refusing.Store(false)
	v := messageStatus(t, m, marketer, id)
	require.Equal(t, "sent", v["status"], v)
	require.Equal(t, float64(2), v["attempts"])
	require.Equal(t, 1, sink.Count())
	require.Contains(t, string(sink.Messages()[0].Data), "123456")
}
