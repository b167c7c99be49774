package campaigns

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/internal/errs"
)

// invalidField returns the field of the errs.Invalid c.normalize gives.
func invalidField(t *testing.T, c Campaign) (string, string) {
	t.Helper()
	var e *errs.Error
	require.ErrorAs(t, c.normalize(), &e)
	require.Equal(t, errs.Invalid, e.Code)
	return e.Field, e.Message
}

func TestThrottleBounds(t *testing.T) {
	t.Parallel()
	for _, bad := range []float64{1e-320, 0.001, -1, 100000.5, 1e308, math.Inf(1), math.NaN()} {
		field, msg := invalidField(t, Campaign{Name: "c", ThrottlePerSecond: bad})
		require.Equal(t, "throttle_per_second", field, "%v", bad)
		require.Contains(t, msg, "from 0.01 to 100000 messages per second")
	}
	for _, ok := range []float64{0, 0.01, 1, 2.5, 100000} {
		c := Campaign{Name: "c", ThrottlePerSecond: ok}
		require.NoError(t, c.normalize(), "%v", ok)
	}
}

// TestHeaderTextIsOneLine: the sender's name and the campaign's name end
// up in headers of every message, so a line break is refused at save, not
// met by every delivery.
func TestHeaderTextIsOneLine(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		campaign Campaign
		field    string
		msg      string
	}{
		{Campaign{Name: "c", From: Address{Name: "Shop\r\nBcc: all@example.com", Email: "news@shop.example"}}, "from.name", "carriage return"},
		{Campaign{Name: "c", From: Address{Name: "Sh\nop", Email: "news@shop.example"}}, "from.name", "line feed"},
		{Campaign{Name: "c", From: Address{Name: "Shop\x00", Email: "news@shop.example"}}, "from.name", "NUL"},
		{Campaign{Name: "Spring\nsale"}, "name", "line feed"},
		{Campaign{Name: "c", From: Address{Email: "news@shop.example\r\nBcc: x@y.example"}}, "from.email", "not a valid email address"},
		{Campaign{Name: "c", ReplyTo: "a@b.example\nBcc: x@y.example"}, "reply_to", "not a valid email address"},
		{Campaign{Name: "c", Steps: []Step{{Key: "main", TemplateID: 1}}, Rules: []Rule{{Name: "r", On: "open",
			Actions: []Action{{Type: "add_tag", Tag: "hot\nlead"}}}}}, "rules[0].actions[0].tag", "line feed"},
		{Campaign{Name: "c", Steps: []Step{{Key: "main", TemplateID: 1}}, Rules: []Rule{{Name: "r", On: "open",
			Actions: []Action{{Type: "set_attribute", Name: "x", Value: map[string]any{"k": "v\x00"}}}}}}, "rules[0].actions[0].value.k", "NUL"},
		{Campaign{Name: "c", Goals: []Goal{{Name: "g\x00", When: "ctr > 0"}}}, "goals[0].name", "NUL"},
		{Campaign{Name: "c", Settings: Settings{UTM: &UTM{Source: "news\x00"}}}, "settings.utm.source", "NUL"},
	} {
		field, msg := invalidField(t, c.campaign)
		require.Equal(t, c.field, field)
		require.Contains(t, msg, c.msg)
	}
	c := Campaign{Name: "c", From: Address{Name: "  فروشگاه — Shop ", Email: "news@shop.example"}}
	require.NoError(t, c.normalize())
	require.Equal(t, "فروشگاه — Shop", c.From.Name, "trimmed")
}

func TestValidRate(t *testing.T) {
	t.Parallel()
	require.True(t, ValidRate(0))
	require.True(t, ValidRate(MinRatePerSecond))
	require.True(t, ValidRate(MaxRatePerSecond))
	require.False(t, ValidRate(math.NaN()))
	require.False(t, ValidRate(MaxRatePerSecond*1.0001))
	require.False(t, ValidRate(5e-324))
}
