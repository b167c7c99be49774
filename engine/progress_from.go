package engine

import (
	"context"

	"github.com/peykar/peykar/campaigns"
)

// ProgressFrom implements campaigns.ProgressReader: the progress counted
// on db, the database a report reads (a replica when one is close enough).
func (e *Engine) ProgressFrom(ctx context.Context, db campaigns.DBTX, campaignID int64) (campaigns.Progress, error) {
	return progress(ctx, db, campaignID, e.Now())
}

var _ campaigns.ProgressReader = (*Engine)(nil)
