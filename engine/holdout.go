package engine

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/peykar/peykar/campaigns"
	"github.com/peykar/peykar/campaigns/holdout"
	"github.com/peykar/peykar/campaigns/segments"
)

// withoutHoldout takes the campaign's holdout members out of a launch page
// (recording them), before any delivery is created and before anything
// else splits the page (an A/B test splits what is left): held-out people
// never get a delivery of the campaign, so no step, follow-up or timer can
// reach them.
func withoutHoldout(ctx context.Context, tx pgx.Tx, c *campaigns.Campaign, p segments.Page, at time.Time) (segments.Page, error) {
	ids, _, err := holdout.Exclude(ctx, tx, c.ID, c.Settings.Holdout, p.IDs, at)
	p.IDs = ids
	return p, err
}
