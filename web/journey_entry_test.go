package web

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/campaigns"
)

// TestJourneyEntryAndExits: a triggered campaign's map opens with its
// trigger (the event and its condition, the delay; or entering the
// segment) and shows its exit conditions as a note, translated; a blast
// says it takes the segment at launch and has no exit note.
func TestJourneyEntryAndExits(t *testing.T) {
	t.Parallel()
	nodesOf := func(m journeyMap) map[string]*journeyNode {
		out := map[string]*journeyNode{}
		for _, n := range m.Nodes {
			out[n.ID] = n
		}
		return out
	}
	c := twoStepCampaign("r")
	c.Entry = campaigns.Entry{Type: campaigns.EntryEvent, Event: "signup", When: `contact.attributes.plan == "pro"`, Delay: "1h"}
	c.Exit = []campaigns.Exit{{Event: "purchase"}, {SegmentExit: true}, {Goal: "engagement"}}

	en := nodesOf(layoutJourney(catalogueFor(t, "en"), journeyInputFor(c, false)))
	require.Equal(t, "When signup happens", en["entry"].Title)
	require.Equal(t, []journeyLine{{Text: `contact.attributes.plan == "pro"`, Code: true}, {Text: "after 1h"}}, en["entry"].Lines)
	require.Equal(t, "Leaves the journey when", en["exits"].Title)
	require.Equal(t, []journeyLine{{Text: "purchase happens"}, {Text: "they leave the segment"}, {Text: "goal “engagement” is reached"}}, en["exits"].Lines)
	require.Equal(t, 0, en["exits"].Col, "the exits note sits under the entry")

	in := journeyInputFor(c, true)
	in.Locale = newLocale("fa", nil)
	fa := layoutJourney(catalogueFor(t, "fa"), in)
	svg, err := journeySVG(catalogueFor(t, "fa"), fa)
	require.NoError(t, err)
	require.Contains(t, string(svg), "وقتی signup رخ دهد")
	require.Contains(t, string(svg), "خروج از سفر وقتی")
	require.Contains(t, string(svg), "پس از ۱h", "the delay in Persian digits")

	c.Entry = campaigns.Entry{Type: campaigns.EntrySegmentEntry}
	en = nodesOf(layoutJourney(catalogueFor(t, "en"), journeyInputFor(c, false)))
	require.Equal(t, "When someone enters the segment", en["entry"].Title)
	require.Equal(t, []journeyLine{{Text: "Tehran pro"}}, en["entry"].Lines)

	blast := nodesOf(layoutJourney(catalogueFor(t, "en"), journeyInputFor(twoStepCampaign("r"), false)))
	require.Equal(t, []journeyLine{{Text: "Segment at launch"}, {Text: "Tehran pro"}}, blast["entry"].Lines)
	require.NotContains(t, blast, "exits")
}
