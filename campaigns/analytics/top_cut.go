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
//
// It sorts no contacts: scores are counted per distinct score (a few
// thousand values, however many contacts share them), the boundary score is
// found by a running sum over those, and the last contact in the cut by
// counting the boundary's contacts per block of ids, then reading one
// block in id order. Three scans whose memory does not grow with the base;
// ranking every contact (the query top_cut, kept as the tests' reference)
// sorted a million rows on disk per summary.
func TopCut(ctx context.Context, db DBTX, percent float64) (Cut, error) {
	return topCut(ctx, db, percent, cutBlock)
}

// topCut is TopCut counting the boundary's contacts in blocks of block ids.
func topCut(ctx context.Context, db DBTX, percent float64, block int64) (Cut, error) {
	if !(percent > 0 && percent <= 100) {
		return Cut{}, errs.Field("percent", "must be more than 0 and at most 100")
	}
	var c Cut
	var above, atScore int64
	err := db.QueryRow(ctx, query("top_cut_score"), percent).Scan(&c.MinScore, &above, &atScore, &c.Count)
	if errors.Is(err, pgx.ErrNoRows) {
		return Cut{}, nil
	}
	if err != nil {
		return Cut{}, fmt.Errorf("analytics: top responders: %w", err)
	}
	need := c.Count - above // how many of the contacts at MinScore are in the cut
	c.Tied = atScore > need
	if c.LastID, err = nthAtScore(ctx, db, c.MinScore, need, block); err != nil {
		return Cut{}, err
	}
	return c, nil
}

// cutBlock is the width of the id blocks TopCut counts in.
const cutBlock = 8192

// nthAtScore is the id of the n-th (1-based) active scored contact, by id,
// whose score is exactly score, counted per block of ids.
func nthAtScore(ctx context.Context, db DBTX, score float64, n, block int64) (int64, error) {
	rows, err := db.Query(ctx, query("top_cut_blocks"), score, block)
	if err != nil {
		return 0, fmt.Errorf("analytics: top responders: %w", err)
	}
	type idBlock struct{ b, n int64 }
	blocks, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (idBlock, error) {
		var x idBlock
		err := r.Scan(&x.b, &x.n)
		return x, err
	})
	if err != nil {
		return 0, fmt.Errorf("analytics: top responders: %w", err)
	}
	for _, bl := range blocks {
		if n > bl.n {
			n -= bl.n
			continue
		}
		var id int64
		if err := db.QueryRow(ctx, query("top_cut_in_block"), score, bl.b*block, (bl.b+1)*block, n-1).Scan(&id); err != nil {
			return 0, fmt.Errorf("analytics: top responders: %w", err)
		}
		return id, nil
	}
	return 0, fmt.Errorf("analytics: top responders: no contact left at score %g", score)
}
