package campaigns

import (
	"context"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/internal/errs"
	"github.com/peykar/peykar/internal/netguard"
)

// TestWebhookURLsRefusedOnSave: every class of internal target the probe
// tried is refused on save, in the channel's URL and in a rule action's,
// with the field and the reason; nothing reaches the database (the
// service has none).
func TestWebhookURLsRefusedOnSave(t *testing.T) {
	t.Parallel()
	svc := &Service{}
	for url, why := range map[string]string{
		"http://127.0.0.1:8080/hook":          "127.0.0.1 is a loopback address",
		"http://localhost/hook":               `"localhost" names a loopback address`,
		"http://[::1]/hook":                   "::1 is a loopback address",
		"http://[::ffff:127.0.0.1]/hook":      "::ffff:127.0.0.1 is a loopback address",
		"http://0.0.0.0:5432/":                "0.0.0.0 is an unspecified address",
		"http://2130706433/":                  `"2130706433" is 127.0.0.1, a loopback address`,
		"http://0x7f.1/":                      "a loopback address",
		"http://10.1.2.3/":                    "10.1.2.3 is a private address",
		"http://192.168.1.1/":                 "a private address",
		"http://169.254.169.254/latest/":      "169.254.169.254 is a link-local address",
		"http://[fe80::1%25eth0]/":            "a link-local address",
		"http://100.64.0.1/":                  "shared (carrier-grade NAT)",
		"https://user:pass@hooks.example/":    "must not carry a user name or password",
		"gopher://hooks.example/":             "must be an http(s) URL",
		"http://127.0.0.%31/":                 "must be an http(s) URL",
		"https://hooks.example/?" + long(3e3): "longer than 2048",
	} {
		channel := Campaign{Name: "c", Channel: ChannelWebhook, Settings: Settings{Webhook: &WebhookSettings{URL: url}}}
		requireFieldError(t, svc.Create(context.Background(), &channel), "settings.webhook.url", why, url)
		rule := Campaign{Name: "r", Steps: []Step{{Key: "main", TemplateID: 1}}, Rules: []Rule{{Name: "hook", On: "open",
			Actions: []Action{{Type: "add_tag", Tag: "x"}, {Type: "webhook", URL: url}}}}}
		requireFieldError(t, svc.Update(context.Background(), &rule), "rules[0].actions[1].url", why, url)
	}
}

func requireFieldError(t *testing.T, err error, field, why, url string) {
	t.Helper()
	var e *errs.Error
	require.ErrorAs(t, err, &e, url)
	require.Equal(t, errs.Invalid, e.Code, url)
	require.Equal(t, field, e.Field, url)
	require.Contains(t, e.Message, why, url)
}

func long(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = 'a'
	}
	return string(b)
}

// TestWebhookURLsAllowedByPolicy: an operator's allow-list admits its
// networks (and localhost with loopback) on save; a name is never resolved
// on save, so any public-looking name passes.
func TestWebhookURLsAllowedByPolicy(t *testing.T) {
	t.Parallel()
	c := Campaign{Name: "c", Channel: ChannelWebhook, Steps: []Step{{Key: "main", TemplateID: 1}}, Rules: []Rule{{Name: "hook", On: "open",
		Actions: []Action{{Type: "webhook", URL: "http://10.1.2.3/sms"}}}}, Settings: Settings{Webhook: &WebhookSettings{URL: "http://localhost:9000/"}}}
	require.NoError(t, c.normalize())
	require.ErrorContains(t, (&Service{}).checkWebhookHosts(&c), "settings.webhook.url")
	allow := &Service{WebhookPolicy: netguard.Policy{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("10.0.0.0/8")}}}
	require.NoError(t, allow.checkWebhookHosts(&c))
	named := Campaign{Name: "n", Channel: ChannelWebhook, Settings: Settings{Webhook: &WebhookSettings{URL: "https://intranet.example.com/hook"}}}
	require.NoError(t, (&Service{}).checkWebhookHosts(&named))
}
