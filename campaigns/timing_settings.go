package campaigns

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/peykar/peykar/campaigns/timing"
	"github.com/peykar/peykar/internal/errs"
)

// SendTime is settings.send_time: each recipient's first step goes at the
// next LocalTime (HH:MM) in the recipient's zone after the launch;
// DefaultTimezone is the zone of recipients whose zone is neither set nor
// inferred (default UTC).
type SendTime struct {
	LocalTime       string `json:"local_time"`
	DefaultTimezone string `json:"default_timezone,omitempty"`
}

// QuietHours is settings.quiet_hours: no message goes between From and To
// (HH:MM, the recipient's local time; From later than To wraps midnight).
// A message due then is held until To, never dropped.
type QuietHours struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// Frequency cap scopes and actions (FrequencyCap.Scope, .Action).
const (
	CapScopeCampaign = "campaign"
	CapScopeAll      = "all"
	CapHold          = "hold"
	CapSkip          = "skip"
)

// CapSkipReason is the reason recorded on a delivery skipped by the
// frequency cap (Action skip), and counted as progress.capped.
const CapSkipReason = "frequency_cap"

// ScopeAll reports whether the cap counts every campaign's messages.
func (f *FrequencyCap) ScopeAll() bool { return f != nil && f.Scope == CapScopeAll }

// Skips reports whether a message over the cap is skipped, not held.
func (f *FrequencyCap) Skips() bool { return f != nil && f.Action == CapSkip }

// DefaultTimezone is the campaign's zone for recipients without one.
func (s Settings) DefaultTimezone() string {
	if s.SendTime == nil {
		return ""
	}
	return s.SendTime.DefaultTimezone
}

// ErrFrequencyCap is returned by ParseFrequencyCap for a malformed value.
var ErrFrequencyCap = errors.New("must be MAX/PER such as 2/24h, optionally /skip (2/24h/skip)")

// ParseFrequencyCap parses the operator's PEYKAR_FREQUENCY_CAP: "MAX/PER"
// (at most MAX messages per contact per PER, a Go duration, across all
// campaigns: "2/24h"), optionally followed by "/hold" (the default) or
// "/skip". "" means no operator cap (nil).
func ParseFrequencyCap(s string) (*FrequencyCap, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	parts := strings.Split(strings.TrimSpace(s), "/")
	if len(parts) < 2 || len(parts) > 3 {
		return nil, fmt.Errorf("frequency cap %q: %w", s, ErrFrequencyCap)
	}
	n, err := strconv.Atoi(parts[0])
	if err != nil || n < 1 {
		return nil, fmt.Errorf("frequency cap %q: %w", s, ErrFrequencyCap)
	}
	if d, err := time.ParseDuration(parts[1]); err != nil || d <= 0 {
		return nil, fmt.Errorf("frequency cap %q: %w", s, ErrFrequencyCap)
	}
	fc := &FrequencyCap{Max: n, Per: parts[1], Scope: CapScopeAll, Action: CapHold}
	if len(parts) == 3 {
		if parts[2] != CapHold && parts[2] != CapSkip {
			return nil, fmt.Errorf("frequency cap %q: %w", s, ErrFrequencyCap)
		}
		fc.Action = parts[2]
	}
	return fc, nil
}

// checkTiming adds the mistakes of send_time, quiet_hours and the
// frequency cap's scope and action to p, each naming its field.
func (s Settings) checkTiming(p *problems) {
	if st := s.SendTime; st != nil {
		if _, err := timing.ParseClock(st.LocalTime); err != nil {
			p.add(errs.Field("settings.send_time.local_time", "%s", timing.ErrClock.Error()))
		}
		if st.DefaultTimezone != "" {
			if _, err := timing.Load(st.DefaultTimezone); err != nil {
				p.add(errs.Field("settings.send_time.default_timezone", "%s", timing.ErrZone.Error()))
			}
		}
	}
	if q := s.QuietHours; q != nil {
		if _, err := timing.ParseClock(q.From); err != nil {
			p.add(errs.Field("settings.quiet_hours.from", "%s", timing.ErrClock.Error()))
		}
		if _, err := timing.ParseClock(q.To); err != nil {
			p.add(errs.Field("settings.quiet_hours.to", "%s", timing.ErrClock.Error()))
		}
		if q.From != "" && q.From == q.To {
			p.add(errs.Field("settings.quiet_hours.to", "must differ from from (an empty window holds nothing)"))
		}
	}
	if fc := s.FrequencyCap; fc != nil {
		switch fc.Scope {
		case "", CapScopeCampaign, CapScopeAll:
		default:
			p.add(errs.Field("settings.frequency_cap.scope", "must be campaign or all"))
		}
		switch fc.Action {
		case "", CapHold:
		case CapSkip:
			if fc.Scope != CapScopeAll {
				p.add(errs.Field("settings.frequency_cap.action", "skip needs scope all (a campaign's own cap holds its follow-ups)"))
			}
		default:
			p.add(errs.Field("settings.frequency_cap.action", "must be hold or skip"))
		}
	}
}
