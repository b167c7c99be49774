package analytics

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/peykar/peykar/internal/errs"
)

// Cut is the top share of active scored contacts by response likelihood,
// exactly: Count contacts, ranked by score (highest first) and, among
// equal scores, by contact id (lowest first). Contacts without response
// history share one score (the prior's mean), so a threshold alone would
// take every one of them at the boundary: a "top 10%" of 23%.
type Cut struct {
	// MinScore is the score of the last contact in the cut.
	MinScore float64 `json:"min_score"`
	// LastID is the id of the last contact in the cut: contacts scored
	// exactly MinScore are in it up to this id.
	LastID int64 `json:"last_id"`
	// Count is ceil(percent × active scored contacts / 100).
	Count int64 `json:"count"`
	// Tied is true when contacts outside the cut share MinScore, so the
	// segment rule needs the id tie-break.
	Tied bool `json:"tied"`
}

// Rule is the segment rule that selects the cut's contacts (as computed).
func (c Cut) Rule() string {
	if !c.Tied {
		return fmt.Sprintf("response.likelihood >= %g", c.MinScore)
	}
	return fmt.Sprintf("response.likelihood > %[1]g || (response.likelihood == %[1]g && contact.id <= %[2]d)", c.MinScore, c.LastID)
}

// where is the SQL over contact_scores s for the cut, with MinScore and
// LastID as parameters $1 and $2.
const cutWhere = "(s.response_likelihood > $1 OR (s.response_likelihood = $1 AND s.contact_id <= $2)) AND c.status = 'active'"

// TopCut returns the top percent of active scored contacts by response
// likelihood, exactly (see Cut). percent must be in (0, 100]. With no
// scored contacts the cut is empty.
func TopCut(ctx context.Context, db DBTX, percent float64) (Cut, error) {
	if !(percent > 0 && percent <= 100) {
		return Cut{}, errs.Field("percent", "must be more than 0 and at most 100")
	}
	var c Cut
	err := db.QueryRow(ctx, query("top_cut"), percent).Scan(&c.MinScore, &c.LastID, &c.Count, &c.Tied)
	if errors.Is(err, pgx.ErrNoRows) {
		return Cut{}, nil
	}
	if err != nil {
		return Cut{}, fmt.Errorf("analytics: top responders: %w", err)
	}
	return c, nil
}
