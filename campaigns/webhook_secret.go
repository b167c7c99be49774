package campaigns

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/peykar/peykar/internal/errs"
)

// hasWebhookAction reports whether a rule of c posts to a webhook.
func hasWebhookAction(c *Campaign) bool {
	for _, r := range c.Rules {
		for _, a := range r.Actions {
			if a.Type == "webhook" {
				return true
			}
		}
	}
	return false
}

// needWebhookSecret gives c a settings.webhook (with no URL: on an email
// campaign it only holds the secret) when a rule posts to a webhook, so
// that the secret generated on save signs the rule's posts as it signs the
// webhook channel's.
func needWebhookSecret(c *Campaign) {
	if c.Settings.Webhook == nil && hasWebhookAction(c) {
		c.Settings.Webhook = &WebhookSettings{}
	}
}

// EnsureWebhookSecret returns campaign id's webhook signing secret,
// generating and storing one when it has none (a campaign saved before its
// rules' webhook posts were signed). Concurrent callers get the same
// secret. An unknown campaign gives errs.NotFound.
func EnsureWebhookSecret(ctx context.Context, db DBTX, id int64) (string, error) {
	_, err := db.Exec(ctx, query("ensure_webhook_secret"), id, NewWebhookSecret())
	if err != nil {
		return "", fmt.Errorf("webhook secret of campaign %d: %w", id, err)
	}
	// A new statement: it sees the secret of a concurrent caller that won.
	var secret string
	err = db.QueryRow(ctx, query("webhook_secret"), id).Scan(&secret)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", errs.New(errs.NotFound, "no campaign %d", id)
	}
	if err != nil {
		return "", fmt.Errorf("webhook secret of campaign %d: %w", id, err)
	}
	return secret, nil
}
