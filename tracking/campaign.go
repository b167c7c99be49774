package tracking

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/peykar/peykar/campaigns/settings"
)

// UTM is a campaign's settings.utm: parameters appended to click
// destinations (as utm_source, utm_medium, utm_campaign) when set. It is
// campaigns' own type (package campaigns/settings), so the two cannot
// disagree.
type UTM = settings.UTM

// DefaultConversionWindow is used when a campaign has no
// settings.conversion_window.
const DefaultConversionWindow = settings.DefaultConversionWindow

// campaignInfo is what tracking reads from a campaign document.
type campaignInfo struct {
	utm              UTM
	conversionWindow time.Duration
	ruleOn           map[string]bool // event types that have follow-up rules
}

// parseCampaign reads a campaign's rules and settings documents; the
// settings through campaigns' own decoder (settings.DecodeTracking).
func parseCampaign(rules, raw []byte) campaignInfo {
	st := settings.DecodeTracking(raw)
	ci := campaignInfo{utm: st.UTM, conversionWindow: st.ConversionWindow}
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
	return ci
}
