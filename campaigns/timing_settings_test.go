package campaigns

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestTimingSettings: send_time, quiet_hours and the frequency cap's scope
// and action are accepted when right and refused at their field when not.
func TestTimingSettings(t *testing.T) {
	t.Parallel()
	ok := validCampaign()
	ok.Settings.SendTime = &SendTime{LocalTime: "09:00", DefaultTimezone: "Asia/Tehran"}
	ok.Settings.QuietHours = &QuietHours{From: "22:00", To: "08:00"}
	ok.Settings.FrequencyCap = &FrequencyCap{Max: 2, Per: "24h", Scope: CapScopeAll, Action: CapSkip}
	require.NoError(t, ok.normalize())

	for _, tc := range []struct {
		name   string
		change func(*Settings)
		field  string
		msg    string
	}{
		{"send time not a clock", func(s *Settings) { s.SendTime = &SendTime{LocalTime: "9am"} }, "settings.send_time.local_time", "HH:MM"},
		{"send time missing", func(s *Settings) { s.SendTime = &SendTime{DefaultTimezone: "UTC"} }, "settings.send_time.local_time", "HH:MM"},
		{"unknown default zone", func(s *Settings) { s.SendTime = &SendTime{LocalTime: "09:00", DefaultTimezone: "Tehran"} }, "settings.send_time.default_timezone", "IANA"},
		{"quiet from", func(s *Settings) { s.QuietHours = &QuietHours{From: "25:00", To: "08:00"} }, "settings.quiet_hours.from", "HH:MM"},
		{"quiet to", func(s *Settings) { s.QuietHours = &QuietHours{From: "22:00"} }, "settings.quiet_hours.to", "HH:MM"},
		{"quiet empty window", func(s *Settings) { s.QuietHours = &QuietHours{From: "22:00", To: "22:00"} }, "settings.quiet_hours.to", "must differ"},
		{"cap scope", func(s *Settings) { s.FrequencyCap.Scope = "global" }, "settings.frequency_cap.scope", "campaign or all"},
		{"cap action", func(s *Settings) { s.FrequencyCap.Scope, s.FrequencyCap.Action = CapScopeAll, "drop" }, "settings.frequency_cap.action", "hold or skip"},
		{"skip needs all", func(s *Settings) { s.FrequencyCap.Action = CapSkip }, "settings.frequency_cap.action", "scope all"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := validCampaign()
			tc.change(&c.Settings)
			field, msg := invalidField(t, c)
			require.Equal(t, tc.field, field, "message: %s", msg)
			require.Contains(t, msg, tc.msg)
		})
	}
}

func TestParseFrequencyCap(t *testing.T) {
	t.Parallel()
	fc, err := ParseFrequencyCap("2/24h")
	require.NoError(t, err)
	require.Equal(t, &FrequencyCap{Max: 2, Per: "24h", Scope: CapScopeAll, Action: CapHold}, fc)
	fc, err = ParseFrequencyCap(" 1/1h/skip ")
	require.NoError(t, err)
	require.Equal(t, &FrequencyCap{Max: 1, Per: "1h", Scope: CapScopeAll, Action: CapSkip}, fc)
	fc, err = ParseFrequencyCap("")
	require.NoError(t, err)
	require.Nil(t, fc)
	for _, bad := range []string{"2", "0/24h", "x/24h", "2/1d", "2/-1h", "2/24h/drop", "2/24h/skip/x"} {
		_, err := ParseFrequencyCap(bad)
		require.ErrorIs(t, err, ErrFrequencyCap, bad)
	}
}
