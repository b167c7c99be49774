package engine

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/riverqueue/river"
)

// Webhook posts signed JSON payloads: the webhook channel (a campaign step
// sent to an SMS gateway or another system) and the webhook rule action.
type Webhook struct {
	Client *http.Client
}

// webhookTimeout bounds one request.
const webhookTimeout = 10 * time.Second

// WebhookError is a failed post; Temporary tells a retry may succeed (5xx,
// 429, network errors, timeouts) from a refusal (other 4xx).
type WebhookError struct {
	Status    int
	Temporary bool
	Msg       string
}

func (e *WebhookError) Error() string { return e.Msg }

// Post sends body to url with an X-Peykar-Signature header
// (sha256=HEX(HMAC-SHA256(secret, timestamp + "." + body))) and an
// X-Peykar-Timestamp, so receivers can verify origin and freshness.
func (w Webhook) Post(ctx context.Context, url, secret string, body []byte, id string) error {
	ctx, cancel := context.WithTimeout(ctx, webhookTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return &WebhookError{Msg: fmt.Sprintf("bad webhook URL: %v", err)}
	}
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Peykar-Webhook/1")
	req.Header.Set("X-Peykar-Timestamp", ts)
	req.Header.Set("X-Peykar-Id", id)
	if secret != "" {
		req.Header.Set("X-Peykar-Signature", "sha256="+Sign(secret, ts, body))
	}
	client := w.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return &WebhookError{Temporary: true, Msg: fmt.Sprintf("webhook %s: %v", url, err)}
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	switch {
	case resp.StatusCode < 300:
		return nil
	case resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusRequestTimeout:
		return &WebhookError{Status: resp.StatusCode, Temporary: true, Msg: fmt.Sprintf("webhook %s answered %d: %s", url, resp.StatusCode, snippet)}
	default:
		return &WebhookError{Status: resp.StatusCode, Msg: fmt.Sprintf("webhook %s refused with %d: %s", url, resp.StatusCode, snippet)}
	}
}

// Sign is the webhook signature of body at timestamp ts.
func Sign(secret, ts string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts))
	m.Write([]byte("."))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// WebhookArgs is one webhook post from a rule action.
type WebhookArgs struct {
	URL    string          `json:"url"`
	Body   json.RawMessage `json:"body"`
	Secret string          `json:"secret,omitempty"`
}

// Kind implements river.JobArgs.
func (WebhookArgs) Kind() string { return "webhook" }

// InsertOpts retries network errors and 5xx with River's backoff.
func (WebhookArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueDefault, MaxAttempts: 8}
}

// WebhookWorker works WebhookArgs.
type WebhookWorker struct {
	river.WorkerDefaults[WebhookArgs]
	Webhook Webhook
}

// NextRetry: 10 s, 20 s, 40 s, … capped at 30 min.
func (w *WebhookWorker) NextRetry(job *river.Job[WebhookArgs]) time.Time {
	d := 10 * time.Second << min(job.Attempt-1, 8)
	return time.Now().Add(min(d, 30*time.Minute))
}

// Work posts; a refusal (4xx) is final, anything else is retried.
func (w *WebhookWorker) Work(ctx context.Context, job *river.Job[WebhookArgs]) error {
	err := w.Webhook.Post(ctx, job.Args.URL, job.Args.Secret, job.Args.Body, "job-"+strconv.FormatInt(job.ID, 10))
	if we, ok := err.(*WebhookError); ok && !we.Temporary {
		return river.JobCancel(err)
	}
	return err
}
