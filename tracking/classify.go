package tracking

import (
	"net"
	"strings"
	"time"
)

// Timing rules of the classifier (see doc.go).
const (
	// TooSoon: an open or click this soon after the message was sent is a
	// scanner or prefetcher, not a person.
	TooSoon = 5 * time.Second
	// BurstWindow and BurstLinks: BurstLinks or more distinct links of one
	// message clicked within BurstWindow is a scanner following every link.
	BurstWindow = time.Second
	BurstLinks  = 3
	// HoneypotWindow: clicks of a delivery this close (before or after) to a
	// click on its hidden honeypot link are the same machine.
	HoneypotWindow = 10 * time.Second
	// VerdictDelay is how long after a click its follow-up rules wait: a
	// click stays reclassifiable while later events can still land in its
	// burst or honeypot window (HoneypotWindow, the widest) and, beyond
	// that, while such an event may still be on its way through the writer
	// (stamped on arrival, recorded within a few BatchTimeouts, retries
	// included). After it, the stored classification is final.
	VerdictDelay = HoneypotWindow + 10*time.Second
)

// VerdictAt returns when the classification of an event of type typ that
// occurred at `at` can no longer change, which is when its follow-up rules
// may run. Only clicks are ever reclassified (by a burst or a honeypot hit
// that comes after them); every other event's verdict is final once stored.
func VerdictAt(typ string, at time.Time) time.Time {
	if typ == TypeClick {
		return at.Add(VerdictDelay)
	}
	return at
}

// Machine-traffic reasons stored in events.reason.
const (
	ReasonUserAgent = "user agent: "
	ReasonTooSoon   = "too soon after delivery"
	ReasonBurst     = "many links clicked within a second"
	ReasonHoneypot  = "honeypot link clicked"
	ReasonProxy     = "image proxy prefetch: "
)

// agentRule is one user-agent signature: a lower-case substring and a label.
type agentRule struct {
	substr, label string
	proxy         bool // an image proxy: opens are prefetches, clicks still count if nothing else flags them
}

// machineAgents is the maintained list of scanner, proxy and automation user
// agents. Substrings are matched case-insensitively. Keep the most specific
// entries first: the first match names the reason.
var machineAgents = []agentRule{
	// Image proxies that fetch the pixel on delivery or on behalf of a user:
	// an open through them says nothing reliable about the person.
	{"googleimageproxy", "Google image proxy", true},
	{"ggpht.com", "Google image proxy", true},
	{"yahoomailproxy", "Yahoo mail proxy", true},
	{"yahoo! slurp", "Yahoo crawler", false},
	// Mail security scanners and link rewriters.
	{"barracuda", "Barracuda", false},
	{"mimecast", "Mimecast", false},
	{"proofpoint", "Proofpoint", false},
	{"ppops", "Proofpoint", false},
	{"safelinks", "Microsoft SafeLinks", false},
	{"microsoft defender", "Microsoft Defender", false},
	{"microsoft office/", "Microsoft Office link preview", false},
	{"ms-office", "Microsoft Office link preview", false},
	{"bingpreview", "Bing preview", false},
	{"forcepoint", "Forcepoint", false},
	{"symantec", "Symantec", false},
	{"messagelabs", "Symantec MessageLabs", false},
	{"trendmicro", "Trend Micro", false},
	{"fortinet", "Fortinet", false},
	{"fortiguard", "Fortinet", false},
	{"sophos", "Sophos", false},
	{"cisco", "Cisco", false},
	{"ironport", "Cisco IronPort", false},
	{"zscaler", "Zscaler", false},
	{"trustwave", "Trustwave", false},
	{"virustotal", "VirusTotal", false},
	{"urlscan", "urlscan", false},
	// Automation and libraries.
	{"headlesschrome", "headless browser", false},
	{"phantomjs", "headless browser", false},
	{"puppeteer", "headless browser", false},
	{"playwright", "headless browser", false},
	{"selenium", "headless browser", false},
	{"electron/", "headless browser", false},
	{"curl/", "curl", false},
	{"wget/", "wget", false},
	{"python-requests", "python-requests", false},
	{"python-urllib", "python-urllib", false},
	{"aiohttp", "python aiohttp", false},
	{"httpx", "python httpx", false},
	{"go-http-client", "Go HTTP client", false},
	{"java/", "Java HTTP client", false},
	{"okhttp", "OkHttp", false},
	{"apache-httpclient", "Apache HttpClient", false},
	{"libwww-perl", "libwww-perl", false},
	{"node-fetch", "node-fetch", false},
	{"axios/", "axios", false},
	{"postmanruntime", "Postman", false},
	// Generic crawlers.
	{"googlebot", "Googlebot", false},
	{"bingbot", "Bingbot", false},
	{"facebookexternalhit", "Facebook crawler", false},
	{"slackbot", "Slack unfurler", false},
	{"twitterbot", "Twitter crawler", false},
	{"linkedinbot", "LinkedIn crawler", false},
	{"crawler", "crawler", false},
	{"spider", "crawler", false},
	{"scanner", "scanner", false},
	{"bot/", "bot", false},
	{"bot;", "bot", false},
	{"+http", "bot", false}, // "compatible; Foo/1.0; +http://foo/bot.html"
}

// Verdict is the classifier's answer for one request.
type Verdict struct {
	Machine bool
	Reason  string
}

// ClassifyAgent classifies a request by its User-Agent alone. kind is the
// event type ("open", "click", ...). An empty user agent is machine traffic:
// every mail client and browser sends one.
func ClassifyAgent(kind, userAgent string, ip net.IP) Verdict {
	ua := strings.ToLower(strings.TrimSpace(userAgent))
	if ua == "" {
		return Verdict{true, ReasonUserAgent + "empty"}
	}
	for _, r := range machineAgents {
		if r.label == "" || !strings.Contains(ua, r.substr) {
			continue
		}
		if r.proxy {
			if kind == "open" {
				return Verdict{true, ReasonProxy + r.label}
			}
			continue
		}
		return Verdict{true, ReasonUserAgent + r.label}
	}
	if kind == "open" && applePrefetch(ua, ip) {
		return Verdict{true, ReasonProxy + "Apple Mail Privacy Protection"}
	}
	return Verdict{}
}

// applePrefetch recognises Apple Mail Privacy Protection's prefetch: Apple's
// relays (17.0.0.0/8) load remote content on delivery with a bare
// "Mozilla/5.0" user agent, or with Mail's WebKit string without a Safari
// or Mobile token.
func applePrefetch(ua string, ip net.IP) bool {
	if ua == "mozilla/5.0" {
		return true
	}
	if ip == nil || !appleNet.Contains(ip) {
		return false
	}
	return strings.Contains(ua, "applewebkit/") && !strings.Contains(ua, "safari") && !strings.Contains(ua, "mobile")
}

var appleNet = &net.IPNet{IP: net.IPv4(17, 0, 0, 0).To4(), Mask: net.CIDRMask(8, 32)}

// tooSoon reports whether at is within TooSoon of sentAt.
func tooSoon(sentAt *time.Time, at time.Time) bool {
	return sentAt != nil && at.Sub(*sentAt) < TooSoon && at.Sub(*sentAt) > -time.Minute
}
