package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/peykar/peykar/campaigns"
	"github.com/peykar/peykar/internal/errs"
)

// WebhookArgs is one webhook post from a rule action. It carries no secret:
// job arguments are shown in River UI, so the worker reads the signing
// secret from the campaign when it runs.
type WebhookArgs struct {
	URL  string          `json:"url"`
	Body json.RawMessage `json:"body"`
	// CampaignID is the campaign whose settings.webhook.secret signs the
	// post (generated when it has none).
	CampaignID int64 `json:"campaign_id,omitempty"`
	// LegacySecret is read from jobs enqueued by versions that put the
	// secret in the arguments; it is never written.
	LegacySecret string `json:"secret,omitempty"`
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
	Pool    *pgxpool.Pool
	Webhook Webhook
}

// NextRetry: 10 s, 20 s, 40 s, … capped at 30 min.
func (w *WebhookWorker) NextRetry(job *river.Job[WebhookArgs]) time.Time {
	d := 10 * time.Second << min(job.Attempt-1, 8)
	return w.Webhook.now().Add(min(d, 30*time.Minute))
}

// Work posts; a refusal (4xx, 3xx, an address not allowed) is final,
// anything else is retried.
func (w *WebhookWorker) Work(ctx context.Context, job *river.Job[WebhookArgs]) error {
	secret, err := w.secret(ctx, job.Args)
	if errs.Is(err, errs.NotFound) {
		return river.JobCancel(fmt.Errorf("webhook not sent: campaign %d no longer exists", job.Args.CampaignID))
	}
	if err != nil {
		return err
	}
	err = w.Webhook.Post(ctx, job.Args.URL, secret, job.Args.Body, "job-"+strconv.FormatInt(job.ID, 10))
	var we *WebhookError
	if errors.As(err, &we) && !we.Temporary {
		return river.JobCancel(err)
	}
	return err
}

// secret is the signing secret of the job's campaign, read now. A campaign
// saved before rule webhooks were signed (an email campaign has no channel
// secret) gets one generated and stored here: every post is signed.
func (w *WebhookWorker) secret(ctx context.Context, a WebhookArgs) (string, error) {
	if a.CampaignID == 0 {
		return a.LegacySecret, nil
	}
	c, err := campaigns.Get(ctx, w.Pool, a.CampaignID)
	if err != nil {
		return "", fmt.Errorf("webhook secret of campaign %d: %w", a.CampaignID, err)
	}
	if c.Settings.Webhook != nil && c.Settings.Webhook.Secret != "" {
		return c.Settings.Webhook.Secret, nil
	}
	return campaigns.EnsureWebhookSecret(ctx, w.Pool, a.CampaignID)
}
