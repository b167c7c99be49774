package web

import (
	"context"
	"slices"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/peykar/peykar/campaigns/contacts"
	"github.com/peykar/peykar/campaigns/segments"
	"github.com/peykar/peykar/campaigns/topics"
)

// topicChoice is one topic of the campaign editor's picker (and the
// contact list's filter).
type topicChoice struct {
	topics.Topic
	Checked bool
}

// topicChoices lists the live topics, and archived ones only when chosen.
func (u *UI) topicChoices(ctx context.Context, chosen []int64) ([]topicChoice, error) {
	all, err := topics.List(ctx, u.Pool, false, true)
	if err != nil {
		return nil, err
	}
	var out []topicChoice
	for _, t := range all {
		on := slices.Contains(chosen, t.ID)
		if t.ArchivedAt == nil || on {
			out = append(out, topicChoice{Topic: t, Checked: on})
		}
	}
	return out, nil
}

// formTopicIDs reads the topic_ids checkboxes (ids that are not numbers
// are left out: the picker only offers numbers).
func formTopicIDs(values []string) []int64 {
	var ids []int64
	for _, s := range values {
		if id, err := strconv.ParseInt(s, 10, 64); err == nil && id > 0 {
			ids = append(ids, id)
		}
	}
	return ids
}

// queryTopicIDs reads ?topic_ids= (repeated) for the audience count.
func queryTopicIDs(c echo.Context) []int64 { return formTopicIDs(c.QueryParams()["topic_ids"]) }

// audienceRule is the campaign editor's audience: the stored segment (or
// everyone, with topics and no segment) restricted to the topics'
// subscribers, as a launch computes it.
func audienceRule(ctx context.Context, db segments.DBTX, segmentID int64, topicIDs []int64) (*segments.Compiled, error) {
	if segmentID <= 0 {
		all, err := segments.CompileSegment("")
		if err != nil {
			return nil, err
		}
		return all.WithTopics(topicIDs), nil
	}
	c, err := segments.CompileStored(ctx, db, segmentID)
	if err != nil {
		return nil, err
	}
	return c.WithTopics(topicIDs), nil
}

// withTopicFilter narrows the contact list's filter (a stored segment, or
// none) to the subscribers of topicID (0: no topic filter).
func withTopicFilter(f contacts.SegmentFilter, topicID int64) (contacts.SegmentFilter, error) {
	if topicID <= 0 {
		return f, nil
	}
	seg, ok := f.(*segments.Compiled)
	if !ok || seg == nil {
		all, err := segments.CompileSegment("")
		if err != nil {
			return nil, err
		}
		seg = all
	}
	return seg.WithTopics([]int64{topicID}), nil
}
