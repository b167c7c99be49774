package engine

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/peykar/peykar/internal/netguard"
)

// Webhook posts signed JSON payloads: the webhook channel (a campaign step
// sent to an SMS gateway or another system) and the webhook rule action.
type Webhook struct {
	// Client sends the requests; nil is a client from NewWebhookClient with
	// no network allowed beyond the public internet.
	Client *http.Client
	// Logger, when set, gets a warning for each connection refused by the
	// address policy, with the address refused: the operator sees it, the
	// user's error says only "address not allowed".
	Logger *slog.Logger
	// Clock dates each post's signature and its job's retries; nil is
	// time.Now.
	Clock func() time.Time
}

func (w Webhook) now() time.Time {
	if w.Clock != nil {
		return w.Clock()
	}
	return time.Now()
}

// webhookTimeout bounds one request, from dialling to the answer's headers.
const webhookTimeout = 10 * time.Second

// defaultWebhookClient is the client of a zero Webhook.
var defaultWebhookClient = NewWebhookClient(WebhookConfig{})

// WebhookError is a failed post; Temporary tells a retry may succeed (5xx,
// 429, network errors, timeouts) from a refusal (other 4xx, 3xx, an address
// not allowed). Msg is safe to store and show: the host as the user typed
// it, a status code and its standard text, or a reason from a fixed
// vocabulary; never the remote answer's body nor an address it resolved to.
type WebhookError struct {
	Status    int
	Temporary bool
	Msg       string
}

func (e *WebhookError) Error() string { return e.Msg }

// Post sends body to url with an X-Peykar-Signature header
// (sha256=HEX(HMAC-SHA256(secret, timestamp + "." + body))) and an
// X-Peykar-Timestamp, so receivers can verify origin and freshness.
// Redirects are not followed and the answer's body is not read.
func (w Webhook) Post(ctx context.Context, url, secret string, body []byte, id string) error {
	u, err := netguard.ParseURL(url)
	if err != nil {
		return &WebhookError{Msg: "webhook URL " + err.Error()}
	}
	ctx, cancel := context.WithTimeout(ctx, webhookTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return &WebhookError{Msg: "webhook URL is not valid"}
	}
	ts := strconv.FormatInt(w.now().Unix(), 10)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Peykar-Webhook/1")
	req.Header.Set("X-Peykar-Timestamp", ts)
	req.Header.Set("X-Peykar-Id", id)
	if secret != "" {
		req.Header.Set("X-Peykar-Signature", "sha256="+Sign(secret, ts, body))
	}
	client := w.Client
	if client == nil {
		client = defaultWebhookClient
	}
	resp, err := client.Do(req)
	if err != nil {
		w.logRefusal(ctx, u.Host, id, err)
		return connectError(u.Host, err)
	}
	defer resp.Body.Close()
	// Drain a little so the connection can be reused; keep none of it.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
	return statusError(u.Host, resp.StatusCode)
}

func (w Webhook) logRefusal(ctx context.Context, host, id string, err error) {
	var re *netguard.RefusedError
	if w.Logger == nil || !errors.As(err, &re) {
		return
	}
	w.Logger.WarnContext(ctx, "webhook refused: address not allowed", slog.String("host", host),
		slog.String("address", re.Addr.String()), slog.String("class", string(re.Class)), slog.String("request", id))
}

// statusError is nil for a 2xx answer, else a WebhookError that keeps the
// status code and its standard text only.
func statusError(host string, code int) error {
	status := strconv.Itoa(code)
	if text := http.StatusText(code); text != "" {
		status += " " + text
	}
	switch {
	case code >= 200 && code < 300:
		return nil
	case code >= 300 && code < 400:
		return &WebhookError{Status: code, Msg: fmt.Sprintf("webhook %s answered %s: redirect not followed", host, status)}
	case code >= 500 || code == http.StatusTooManyRequests || code == http.StatusRequestTimeout:
		return &WebhookError{Status: code, Temporary: true, Msg: fmt.Sprintf("webhook %s answered %s", host, status)}
	default:
		return &WebhookError{Status: code, Msg: fmt.Sprintf("webhook %s refused with %s", host, status)}
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
