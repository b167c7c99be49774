package web

import (
	"slices"

	"github.com/peykar/peykar/campaigns"
)

// readTiming reads the campaign form's timing fields (send time, quiet
// hours, the frequency cap's scope and action) into cp; campaigns
// validates them and names the field of each mistake. Blank fields leave
// a setting out.
func readTiming(v func(string) string, cp *campaigns.Campaign) {
	if local, zone := v("settings.send_time.local_time"), v("settings.send_time.default_timezone"); local != "" || zone != "" {
		cp.Settings.SendTime = &campaigns.SendTime{LocalTime: local, DefaultTimezone: zone}
	}
	if from, to := v("settings.quiet_hours.from"), v("settings.quiet_hours.to"); from != "" || to != "" {
		cp.Settings.QuietHours = &campaigns.QuietHours{From: from, To: to}
	}
	if fc := cp.Settings.FrequencyCap; fc != nil {
		fc.Scope, fc.Action = v("settings.frequency_cap.scope"), v("settings.frequency_cap.action")
	}
}

// SendLocal is the form's send_time.local_time.
func (f campaignForm) SendLocal() string {
	if st := f.Settings.SendTime; st != nil {
		return st.LocalTime
	}
	return ""
}

// SendZone is the form's send_time.default_timezone.
func (f campaignForm) SendZone() string { return f.Settings.DefaultTimezone() }

// QuietFrom and QuietTo are the form's quiet hours.
func (f campaignForm) QuietFrom() string {
	if q := f.Settings.QuietHours; q != nil {
		return q.From
	}
	return ""
}

// QuietTo is the end of the form's quiet hours.
func (f campaignForm) QuietTo() string {
	if q := f.Settings.QuietHours; q != nil {
		return q.To
	}
	return ""
}

// CapScope and CapAction are the form's frequency cap scope and action
// ("" for the defaults, campaign and hold).
func (f campaignForm) CapScope() string {
	if fc := f.Settings.FrequencyCap; fc != nil {
		return fc.Scope
	}
	return ""
}

// CapAction is the form's frequency cap action.
func (f campaignForm) CapAction() string {
	if fc := f.Settings.FrequencyCap; fc != nil {
		return fc.Action
	}
	return ""
}

// TimingZones are the default zone's choices: the common zones and the
// campaign's own when it is another.
func (f campaignForm) TimingZones() []string {
	zones := slices.Clone(commonZones)
	if z := f.SendZone(); z != "" && !slices.Contains(zones, z) {
		zones = append(zones, z)
	}
	return zones
}

// CapScopes are the frequency cap's scopes, the default first.
func (campaignForm) CapScopes() []string {
	return []string{campaigns.CapScopeCampaign, campaigns.CapScopeAll}
}

// CapActions are the frequency cap's actions, the default first.
func (campaignForm) CapActions() []string { return []string{campaigns.CapHold, campaigns.CapSkip} }
