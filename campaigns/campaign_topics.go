package campaigns

import (
	"context"
	"fmt"
	"slices"

	"github.com/peykar/peykar/campaigns/segments"
	"github.com/peykar/peykar/campaigns/topics"
	"github.com/peykar/peykar/internal/errs"
)

// maxCampaignTopics bounds a campaign's topic_ids.
const maxCampaignTopics = 50

// campaignTopics reads the topic ids campaign id targets (never nil).
func campaignTopics(ctx context.Context, db DBTX, id int64) ([]int64, error) {
	var ids []int64
	if err := db.QueryRow(ctx, query("campaign_topics"), id).Scan(&ids); err != nil {
		return nil, fmt.Errorf("campaign %d topics: %w", id, err)
	}
	if ids == nil {
		ids = []int64{}
	}
	return ids, nil
}

// saveTopics validates c's topic_ids (sorted, without repeats; each an
// existing topic, else an error naming it) and stores them.
func saveTopics(ctx context.Context, db DBTX, c *Campaign) error {
	ids := slices.Clone(c.TopicIDs)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	if len(ids) > maxCampaignTopics {
		return errs.Field("topic_ids", "a campaign targets at most %d topics", maxCampaignTopics)
	}
	if _, err := topics.ByIDs(ctx, db, "topic_ids", ids); err != nil {
		return err
	}
	if ids == nil {
		ids = []int64{}
	}
	c.TopicIDs = ids
	if _, err := db.Exec(ctx, query("set_campaign_topics"), c.ID, ids); err != nil {
		return fmt.Errorf("campaign %d topics: %w", c.ID, err)
	}
	return nil
}

// sameTopics reports whether two campaigns target the same topics.
func sameTopics(a, b []int64) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(slices.Compact(a), slices.Compact(b))
}

// Audience is the compiled audience of c: its segment's rule (every
// contact when it targets topics without a segment) restricted to the
// subscribers of its topics. The launch check and the launch walk both use
// it. A campaign with neither segment nor topics gives errs.Invalid.
func Audience(ctx context.Context, db DBTX, c Campaign) (*segments.Compiled, error) {
	if c.SegmentID == nil {
		if len(c.TopicIDs) == 0 {
			return nil, errs.Field("segment_id", "a campaign needs a segment or topics to launch")
		}
		all, err := segments.CompileSegment("")
		if err != nil {
			return nil, err
		}
		return all.WithTopics(c.TopicIDs), nil
	}
	seg, err := segments.GetSegment(ctx, db, *c.SegmentID)
	if err != nil {
		return nil, err
	}
	rule, err := segments.CompileSegment(seg.Rule)
	if err != nil {
		return nil, err
	}
	return rule.WithTopics(c.TopicIDs), nil
}

// checkLaunchTopics is checkLaunchSegment for a campaign that targets
// topics without a segment: every subscriber of the topics.
func checkLaunchTopics(ctx context.Context, tx DBTX, c Campaign, p *problems) (*segments.Compiled, error) {
	rule, err := Audience(ctx, tx, c)
	if err != nil {
		return nil, err
	}
	empty, err := segmentEmpty(ctx, tx, rule)
	if err != nil {
		return nil, err
	}
	if empty {
		p.add(errs.Field("topic_ids", "the campaign's topics have no subscribed contacts that can be sent to"))
	}
	return rule, nil
}
