package web

import "github.com/peykar/peykar/campaigns"

// entryLabel is the journey map's first node: how people enter. A blast
// takes the segment at launch (said on its first line); a triggered campaign lets people in when
// its event happens (with its condition) or when they enter its segment,
// after its delay when it has one.
func entryLabel(msg catalogue, in journeyInput) (string, []journeyLine) {
	c := in.Campaign
	segment := journeyLine{Text: msg.T("journey.no_segment")}
	if in.Segment != "" {
		segment = journeyLine{Text: in.Segment}
	}
	var title string
	var lines []journeyLine
	switch c.Entry.Type {
	case campaigns.EntryEvent:
		title = msg.T("journey.map_entry_event", c.Entry.Event)
		if c.Entry.When != "" {
			lines = append(lines, journeyLine{Text: c.Entry.When, Code: true})
		}
	case campaigns.EntrySegmentEntry:
		title = msg.T("journey.map_entry_segment_entry")
		lines = append(lines, segment)
	default:
		// A blast keeps the map's first title ("Entry"); how it enters is
		// its first line.
		title = msg.T("journey.entry")
		lines = append(lines, journeyLine{Text: msg.T("journey.map_entry_segment")}, segment)
	}
	if c.Triggered() && c.Entry.Delay != "" {
		lines = append(lines, journeyLine{Text: msg.T("journey.after", in.Locale.digits(c.Entry.Delay))})
	}
	return title, lines
}

// exitLines are a triggered campaign's exit conditions, one line each
// (none for a blast).
func exitLines(msg catalogue, lc locale, c campaigns.Campaign) []journeyLine {
	if !c.Triggered() {
		return nil
	}
	var out []journeyLine
	for _, x := range c.Exit {
		switch {
		case x.Event != "":
			out = append(out, journeyLine{Text: msg.T("journey.map_exit_event", x.Event)})
			if x.When != "" {
				out = append(out, journeyLine{Text: x.When, Code: true})
			}
		case x.SegmentExit:
			out = append(out, journeyLine{Text: msg.T("journey.exit_segment")})
		case x.Goal != "":
			out = append(out, journeyLine{Text: msg.T("journey.map_exit_goal", x.Goal)})
		}
	}
	if c.EndsAt != nil {
		out = append(out, journeyLine{Text: msg.T("journey.map_ends_at", lc.Date(*c.EndsAt))})
	}
	return out
}
