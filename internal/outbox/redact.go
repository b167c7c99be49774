package outbox

import (
	"regexp"
)

// RedactedToken is what a redacted tracking token reads as.
const RedactedToken = "[redacted]"

// Tracking links carry signed tokens ({base}/t/c/{token}, /t/o/{token}.gif,
// /t/u/{token}, …) and the VERP return path carries one in its local part
// (bounce+{token}@domain). Whoever holds such a token acts as the recipient:
// clicks, opens, unsubscribes, bounces.
var (
	trackingLink = regexp.MustCompile(`(/t/[a-z]{1,8}/)[A-Za-z0-9_-]{16,}(\.gif)?`)
	bounceLocal  = regexp.MustCompile(`(?i)(bounce\+)[a-z2-7]{16,}@`)
)

// RedactText replaces every tracking token in s with [redacted]: a link
// reads {base}/t/u/[redacted], a VERP address bounce+[redacted]@domain.
func RedactText(s string) string {
	s = trackingLink.ReplaceAllString(s, "${1}"+RedactedToken)
	return bounceLocal.ReplaceAllString(s, "${1}"+RedactedToken+"@")
}

// Redacted returns m with the tracking tokens in its sender, recipients,
// subject, headers and bodies redacted (see RedactText).
func (m Message) Redacted() Message {
	m.From = RedactText(m.From)
	to := make([]string, len(m.To))
	for i, r := range m.To {
		to[i] = RedactText(r)
	}
	m.To = to
	m.Subject = RedactText(m.Subject)
	if m.Headers != nil {
		h := make(map[string][]string, len(m.Headers))
		for k, vs := range m.Headers {
			out := make([]string, len(vs))
			for i, v := range vs {
				out[i] = RedactText(v)
			}
			h[k] = out
		}
		m.Headers = h
	}
	m.HTML = RedactText(m.HTML)
	m.Text = RedactText(m.Text)
	return m
}
