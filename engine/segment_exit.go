package engine

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/peykar/peykar/campaigns"
)

// leaveMembers takes the contacts who left c's segment out of the campaign
// when it has the exit {"segment_exit":true}: their active entries exit
// with reason segment_exit and their pending steps are skipped (Exit).
// Without that exit they stay in; either way they are no longer members,
// so coming back into the segment is a new entry (re-entry policy
// permitting).
func (e *Engine) leaveMembers(ctx context.Context, tx pgx.Tx, c *campaigns.Campaign, ids []int64) error {
	if !hasSegmentExit(c) {
		return nil
	}
	for _, id := range ids {
		if _, err := e.Exit(ctx, tx, c.ID, id, ExitSegment); err != nil {
			return err
		}
	}
	return nil
}
