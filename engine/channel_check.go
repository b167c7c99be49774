package engine

import (
	"context"
	"slices"

	"github.com/peykar/peykar/campaigns"
	"github.com/peykar/peykar/campaigns/contacts"
	"github.com/peykar/peykar/campaigns/segments"
)

// skipChannelDetail is the reason a delivery is skipped when its contact
// may not be sent to on the campaign's channel any more.
const skipChannelDetail = "contact is no longer sendable"

// onChannel re-judges a launch page for a campaign on another channel than
// email: the segment walk applies email's sendability (the contact's
// status and email suppressions), which does not hold a webhook kind back,
// while that kind's own suppressions do. An email page is returned as it is.
func onChannel(ctx context.Context, db contacts.DBTX, c *campaigns.Campaign, p segments.Page) (segments.Page, error) {
	channel := c.ChannelName()
	if channel == campaigns.ChannelEmail {
		return p, nil
	}
	all := slices.Concat(p.IDs, p.SuppressedIDs)
	slices.Sort(all)
	ok, err := contacts.SendableOn(ctx, db, channel, all)
	if err != nil {
		return p, err
	}
	p.IDs, p.SuppressedIDs, p.Suppressed = nil, nil, 0
	for _, id := range all {
		if ok[id] {
			p.IDs = append(p.IDs, id)
		} else {
			p.SuppressedIDs = append(p.SuppressedIDs, id)
			p.Suppressed++
		}
	}
	return p, nil
}

// sendableIn returns which of the group's contacts may be sent to on the
// campaign's channel now (status and suppressions, per channel).
func (w *SendWorker) sendableIn(ctx context.Context, c *campaigns.Campaign, ids []int64) (map[int64]bool, error) {
	return contacts.SendableOn(ctx, w.Pool, c.ChannelName(), ids)
}
