package web

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestJourneyPersianDigits: in the Persian page the map writes its live
// numbers, delays and template ids in Persian digits, with the locale's
// separators; expressions keep theirs.
func TestJourneyPersianDigits(t *testing.T) {
	t.Parallel()
	msg := catalogueFor(t, "fa")
	c := twoStepCampaign("r")
	c.Steps[1].TemplateID = 7 // a template without a name: shown by its id
	in := journeyInputFor(c, true)
	in.Locale = newLocale("fa", nil)
	in.Audience = 12345
	svg, err := journeySVG(msg, layoutJourney(msg, in))
	require.NoError(t, err)
	s := string(svg)
	require.Regexp(t, `data-stat="fired" id="j-rule-0-fired" data-path="[^"]+">۴</tspan>`, s)
	require.Contains(t, s, `id="j-entry-audience">۱۲٬۳۴۵</tspan>`)
	require.Contains(t, s, "پس از ۴۸h")
	require.Contains(t, s, "قالب #۷")
	require.Contains(t, s, `contains &#34;pric…`, "the expression is code, written as typed")
	for _, d := range journeyDetails(msg, in, layoutJourney(msg, in)) {
		for _, r := range d.Rows {
			if !r.Code {
				require.NotRegexp(t, `[0-9]`, r.Value, "%s: %s", d.ID, r.Label)
			}
		}
	}

	en := journeyInputFor(c, false)
	en.Locale = newLocale("en", nil)
	en.Audience = 12345
	svg, err = journeySVG(catalogueFor(t, "en"), layoutJourney(catalogueFor(t, "en"), en))
	require.NoError(t, err)
	require.Contains(t, string(svg), `id="j-entry-audience">12,345</tspan>`)
}
