package tracking

import (
	"encoding/json"
	"net/url"
	"strings"
	"time"
)

// UTM is a campaign's settings.utm: parameters appended to click
// destinations (as utm_source, utm_medium, utm_campaign) when set.
type UTM struct {
	Source   string `json:"source"`
	Medium   string `json:"medium"`
	Campaign string `json:"campaign"`
}

// Apply returns dest with the UTM parameters added; parameters the URL
// already carries are kept as they are.
func (u UTM) Apply(dest string) string {
	if u == (UTM{}) {
		return dest
	}
	p, err := url.Parse(dest)
	if err != nil {
		return dest
	}
	q := p.Query()
	for k, v := range map[string]string{"utm_source": u.Source, "utm_medium": u.Medium, "utm_campaign": u.Campaign} {
		if v != "" && !q.Has(k) {
			q.Set(k, v)
		}
	}
	p.RawQuery = q.Encode()
	return p.String()
}

// DefaultConversionWindow is used when a campaign has no
// settings.conversion_window.
const DefaultConversionWindow = 7 * 24 * time.Hour

// campaignInfo is what tracking reads from a campaign document.
type campaignInfo struct {
	utm              UTM
	conversionWindow time.Duration
	ruleOn           map[string]bool // event types that have follow-up rules
}

func parseCampaign(rules, settings []byte) campaignInfo {
	ci := campaignInfo{conversionWindow: DefaultConversionWindow}
	var rs []struct {
		On string `json:"on"`
	}
	if json.Unmarshal(rules, &rs) == nil {
		for _, r := range rs {
			if r.On != "" {
				if ci.ruleOn == nil {
					ci.ruleOn = map[string]bool{}
				}
				ci.ruleOn[strings.ToLower(r.On)] = true
			}
		}
	}
	var st struct {
		UTM              UTM             `json:"utm"`
		ConversionWindow json.RawMessage `json:"conversion_window"`
	}
	if json.Unmarshal(settings, &st) == nil {
		ci.utm = st.UTM
		if d, ok := parseWindow(st.ConversionWindow); ok {
			ci.conversionWindow = d
		}
	}
	return ci
}

// parseWindow accepts a Go duration ("72h"), a number of days with a "d"
// suffix ("7d"), or a number of seconds.
func parseWindow(raw json.RawMessage) (time.Duration, bool) {
	if len(raw) == 0 {
		return 0, false
	}
	var n float64
	if json.Unmarshal(raw, &n) == nil && n > 0 {
		return time.Duration(n * float64(time.Second)), true
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return 0, false
	}
	s = strings.TrimSpace(s)
	if days, ok := strings.CutSuffix(s, "d"); ok {
		var d float64
		if err := json.Unmarshal([]byte(days), &d); err == nil && d > 0 {
			return time.Duration(d * 24 * float64(time.Hour)), true
		}
		return 0, false
	}
	d, err := time.ParseDuration(s)
	return d, err == nil && d > 0
}
