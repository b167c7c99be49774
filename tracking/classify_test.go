package tracking

import (
	"net"
	"testing"

	"github.com/stretchr/testify/require"
)

// Labelled user agents: real strings seen from scanners, proxies, tools and
// people.
func TestClassifyAgentSamples(t *testing.T) {
	t.Parallel()
	samples := []struct {
		kind, ua, ip string
		machine      bool
	}{
		{"open", "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)", "", true},
		{"open", "YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html", "", true},
		{"open", "Mozilla/5.0", "17.58.0.1", true},
		{"open", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)", "17.58.0.1", true},
		{"open", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)", "203.0.113.9", false},
		{"click", "Mozilla/5.0 (compatible; Barracuda Sentinel (EE))", "", true},
		{"click", "Mimecast Safe Links", "", true},
		{"click", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Proofpoint URL Defense", "", true},
		{"click", "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.5400; Pro)", "", true},
		{"click", "Mozilla/5.0 (Windows NT 10.0) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.0.0 Safari/537.36", "", true},
		{"click", "curl/8.5.0", "", true},
		{"click", "python-requests/2.31.0", "", true},
		{"click", "Go-http-client/1.1", "", true},
		{"click", "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", "", true},
		{"click", "", "", true},
		// The Google image proxy fetches images, not links: a click with its
		// token in the UA is still judged on other signals.
		{"click", "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)", "", false},
		// People.
		{"click", browserUA, "", false},
		{"open", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148", "17.1.1.1", false},
		{"open", "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0", "", false},
		{"click", "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Mobile Safari/537.36", "", false},
	}
	for _, s := range samples {
		v := ClassifyAgent(s.kind, s.ua, net.ParseIP(s.ip))
		require.Equal(t, s.machine, v.Machine, "%s %q", s.kind, s.ua)
		if v.Machine {
			require.NotEmpty(t, v.Reason)
		}
	}
}
