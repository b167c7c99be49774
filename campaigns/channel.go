package campaigns

import (
	"context"
	"fmt"
	"regexp"

	"github.com/jackc/pgx/v5"

	"github.com/peykar/peykar/internal/errs"
)

// webhookKind is a webhook channel's kind: a lower-case name such as sms.
var webhookKind = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,31}$`)

// Languages a campaign's recipient pages (the preference centre, the
// unsubscribe confirmation) can be shown in.
var Languages = []string{"en", "fa"}

// ChannelName is the channel the campaign's consent and suppressions are
// counted on: "email", or a webhook campaign's settings.webhook.kind
// ("webhook" when it names none).
func (c *Campaign) ChannelName() string {
	if c.Channel != ChannelWebhook {
		return ChannelEmail
	}
	if w := c.Settings.Webhook; w != nil && w.Kind != "" {
		return w.Kind
	}
	return ChannelWebhook
}

// checkChannelSettings checks settings.webhook.kind and settings.language.
func (s *Settings) checkChannelSettings() error {
	if w := s.Webhook; w != nil && w.Kind != "" {
		if !webhookKind.MatchString(w.Kind) || w.Kind == ChannelEmail {
			return errs.Field("settings.webhook.kind", "must be a lower-case channel name such as sms (not email)")
		}
	}
	if s.Language != "" {
		for _, l := range Languages {
			if s.Language == l {
				return nil
			}
		}
		return errs.Field("settings.language", "must be en or fa")
	}
	return nil
}

// Channels returns the channels campaigns send on, email first, then each
// webhook channel (its kind, or webhook when it names none) by name: the
// channels a contact's profile shows its state on.
func Channels(ctx context.Context, db DBTX) ([]string, error) {
	rows, err := db.Query(ctx, query("campaign_channels"))
	if err != nil {
		return nil, fmt.Errorf("campaign channels: %w", err)
	}
	kinds, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("campaign channels: %w", err)
	}
	return append([]string{ChannelEmail}, kinds...), nil
}
