package campaigns

import (
	"fmt"
	"net/url"

	"github.com/peykar/peykar/internal/errs"
	"github.com/peykar/peykar/internal/netguard"
)

// checkWebhookURL is what a webhook URL must be whatever the operator
// allows: http(s), a host, no user:pass@, not too long.
func checkWebhookURL(field, raw string) error {
	if _, err := netguard.ParseURL(raw); err != nil {
		return errs.Field(field, "%v", err)
	}
	return nil
}

// checkWebhookHosts refuses webhook URLs whose host is an address literal
// outside the public internet, or localhost, unless s.WebhookPolicy allows
// it. Host names are not resolved here (DNS answers change): the engine
// checks the address it actually dials, on every connection.
func (s *Service) checkWebhookHosts(c *Campaign) error {
	for _, w := range c.webhookURLs() {
		u, err := url.Parse(w.url)
		if err != nil {
			return errs.Field(w.field, "must be an http(s) URL such as https://hooks.example/peykar")
		}
		if err := s.WebhookPolicy.CheckHost(u.Hostname()); err != nil {
			return errs.Field(w.field, "%v: webhooks may not reach loopback, private, link-local or other internal addresses (an operator can allow a network with PEYKAR_WEBHOOK_ALLOW_NETWORKS)", err)
		}
	}
	return nil
}

type webhookURL struct{ field, url string }

// webhookURLs lists the URLs c posts to, with their fields.
func (c *Campaign) webhookURLs() []webhookURL {
	var out []webhookURL
	if c.Channel == ChannelWebhook && c.Settings.Webhook != nil {
		out = append(out, webhookURL{"settings.webhook.url", c.Settings.Webhook.URL})
	}
	for i, r := range c.Rules {
		for j, a := range r.Actions {
			if a.Type == "webhook" {
				out = append(out, webhookURL{fmt.Sprintf("rules[%d].actions[%d].url", i, j), a.URL})
			}
		}
	}
	return out
}
