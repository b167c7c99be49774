package analytics

// The named RFM segments.
const (
	SegmentChampions          = "champions"
	SegmentLoyal              = "loyal"
	SegmentPotentialLoyalists = "potential_loyalists"
	SegmentNew                = "new"
	SegmentPromising          = "promising"
	SegmentNeedAttention      = "need_attention"
	SegmentAboutToSleep       = "about_to_sleep"
	SegmentAtRisk             = "at_risk"
	SegmentCannotLose         = "cannot_lose"
	SegmentHibernating        = "hibernating"
	SegmentLost               = "lost"
)

// Segments lists the named segments from the best customers to the worst.
var Segments = []string{
	SegmentChampions, SegmentLoyal, SegmentPotentialLoyalists, SegmentNew, SegmentPromising,
	SegmentNeedAttention, SegmentAboutToSleep, SegmentCannotLose, SegmentAtRisk,
	SegmentHibernating, SegmentLost,
}

// FMScore combines frequency and monetary scores into the FM axis of the
// segment grid: their mean, halves rounded up.
func FMScore(f, m int) int { return (f + m + 1) / 2 }

// Segment names the RFM segment of a recency score r and an FM score fm
// (both 1–5) with the widely published R × FM grid:
//
//	          FM=1            FM=2                 FM=3                 FM=4         FM=5
//	R=5   new             potential_loyalists  potential_loyalists  champions    champions
//	R=4   promising       potential_loyalists  potential_loyalists  loyal        loyal
//	R=3   about_to_sleep  about_to_sleep       need_attention       loyal        loyal
//	R=2   hibernating     hibernating          at_risk              at_risk      cannot_lose
//	R=1   lost            hibernating          at_risk              at_risk      cannot_lose
//
// Scores outside 1–5 (a contact with no purchase) have no segment: "".
func Segment(r, fm int) string {
	if r < 1 || r > 5 || fm < 1 || fm > 5 {
		return ""
	}
	switch {
	case r <= 2 && fm == 5:
		return SegmentCannotLose
	case r <= 2 && fm >= 3:
		return SegmentAtRisk
	case r == 1 && fm == 1:
		return SegmentLost
	case r <= 2:
		return SegmentHibernating
	case r == 3 && fm <= 2:
		return SegmentAboutToSleep
	case r == 3 && fm == 3:
		return SegmentNeedAttention
	case r <= 4 && fm >= 4:
		return SegmentLoyal
	case r == 4 && fm == 1:
		return SegmentPromising
	case r == 5 && fm == 1:
		return SegmentNew
	case fm <= 3:
		return SegmentPotentialLoyalists
	default:
		return SegmentChampions
	}
}

// segmentGrid is Segment as a flat array indexed (r-1)*5 + fm - 1, passed to
// SQL as a parameter so both sides share one definition.
func segmentGrid() []string {
	g := make([]string, 0, 25)
	for r := 1; r <= 5; r++ {
		for fm := 1; fm <= 5; fm++ {
			g = append(g, Segment(r, fm))
		}
	}
	return g
}
