package engine_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/campaigns"
	"github.com/peykar/peykar/campaigns/topics"
	"github.com/peykar/peykar/internal/errs"
)

func topicNamed(t *testing.T, b *bundle, name string) int64 {
	t.Helper()
	tp, err := topics.Create(context.Background(), b.pool, topics.Input{Name: &name})
	require.NoError(t, err)
	return tp.ID
}

func subscribe(t *testing.T, b *bundle, email string, topic int64, status topics.Status) {
	t.Helper()
	_, err := topics.Set(context.Background(), b.pool, mustContactID(t, b, email), topic, status, topics.Source{Kind: topics.SourceAdmin})
	require.NoError(t, err)
}

// A campaign to topic A reaches A's subscribed members only (not pending,
// not unsubscribed, not B's); with a segment both must hold; without a
// segment the topic alone decides. Someone who leaves the topic after the
// launch is skipped at send time, with the reason.
func TestCampaignToTopicReachesSubscribersOnly(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	ctx := context.Background()
	srv := b.trackingServer(t)
	c := b.seed(t, 6, 0) // user0 … user5, segment "everyone"
	a, other := topicNamed(t, b, "A"), topicNamed(t, b, "B")
	subscribe(t, b, "user0@example.com", a, topics.Subscribed)
	subscribe(t, b, "user1@example.com", a, topics.Subscribed)
	subscribe(t, b, "user2@example.com", a, topics.Pending)
	subscribe(t, b, "user3@example.com", a, topics.Subscribed)
	subscribe(t, b, "user3@example.com", a, topics.Unsubscribed)
	subscribe(t, b, "user4@example.com", other, topics.Subscribed)

	// Validation: an unknown topic is named.
	bad := campaigns.Campaign{Name: "bad", From: c.From, Steps: c.Steps, TopicIDs: []int64{a, 424242}}
	err := b.svc.Create(ctx, &bad)
	require.True(t, errs.Is(err, errs.Invalid), "%v", err)
	require.ErrorContains(t, err, "424242")

	// Topic alone, no segment; a follow-up on click re-checks at send.
	offer := b.followUpTemplate(t)
	c.SegmentID = nil
	c.TopicIDs = []int64{a}
	c.Steps = append(c.Steps, campaigns.Step{Key: "offer", TemplateID: offer})
	c.Rules = []campaigns.Rule{{Name: "clicked", On: "click", Actions: []campaigns.Action{{Type: "send", Step: "offer"}}}}
	require.NoError(t, b.svc.Update(ctx, &c))
	got, err := campaigns.Get(ctx, b.pool, c.ID)
	require.NoError(t, err)
	require.Equal(t, []int64{a}, got.TopicIDs)
	_, err = b.svc.Launch(ctx, c.ID)
	require.NoError(t, err)
	b.waitStatus(t, c.ID, campaigns.StatusFinished, 20*time.Second)
	for i, want := range []int{1, 1, 0, 0, 0, 0} {
		require.Equal(t, want, b.received(addr(i), "سلام"), "user%d", i)
	}

	// user1 leaves A after the launch: their follow-up is skipped at send.
	subscribe(t, b, "user1@example.com", a, topics.Unsubscribed)
	b.click(t, srv, "user0@example.com", "Pricing")
	b.click(t, srv, "user1@example.com", "Pricing")
	require.Eventually(t, func() bool { return b.received("user0@example.com", "Your offer") == 1 }, 30*time.Second, 20*time.Millisecond)
	require.Eventually(t, func() bool { return b.deliveryStatus(t, c.ID, "user1@example.com", "offer") == "skipped" }, 30*time.Second, 20*time.Millisecond)
	require.Zero(t, b.received("user1@example.com", "Your offer"))
	var detail string
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT d.last_error FROM deliveries d JOIN contacts c ON c.id = d.contact_id
		WHERE d.campaign_id = $1 AND c.email = 'user1@example.com' AND d.step = 'offer'`, c.ID).Scan(&detail))
	require.Contains(t, detail, "unsubscribed from the campaign's topics")
	b.settleSends(t) // the skip is counted by the send fold
	p, err := b.svc.Runtime.Progress(ctx, c.ID)
	require.NoError(t, err)
	require.EqualValues(t, 1, p.Skipped)

	// Segment and topic: both must hold (user4 is in the segment but not in A, user0 in A but not in the segment).
	var seg int64
	require.NoError(t, b.pool.QueryRow(ctx, `INSERT INTO segments (name, rule) VALUES ('not user0', 'contact.email != "user0@example.com"') RETURNING id`).Scan(&seg))
	subscribe(t, b, "user5@example.com", a, topics.Subscribed)
	both := campaigns.Campaign{Name: "Both", SegmentID: &seg, TopicIDs: []int64{a}, From: c.From, Steps: []campaigns.Step{{Key: "main", TemplateID: c.Steps[0].TemplateID}}}
	require.NoError(t, b.svc.Create(ctx, &both))
	_, err = b.svc.Launch(ctx, both.ID)
	require.NoError(t, err)
	b.waitStatus(t, both.ID, campaigns.StatusFinished, 20*time.Second)
	for i, want := range []int{1, 1, 0, 0, 0, 1} { // user1 left A, so only user5 is new
		require.Equal(t, want, b.received(addr(i), "سلام"), "user%d", i)
	}
	require.Zero(t, b.countOf(t, `SELECT count(*) FROM deliveries WHERE campaign_id = $1 AND contact_id <> $2`, both.ID, mustContactID(t, b, "user5@example.com")))

	// Nobody subscribed: the launch says so, on topic_ids.
	empty := campaigns.Campaign{Name: "Empty", TopicIDs: []int64{other}, SegmentID: &seg, From: c.From, Steps: both.Steps}
	subscribe(t, b, "user4@example.com", other, topics.Unsubscribed)
	require.NoError(t, b.svc.Create(ctx, &empty))
	_, err = b.svc.Launch(ctx, empty.ID)
	require.ErrorContains(t, err, "topic_ids")

	// A targeted topic cannot be deleted.
	err = topics.Delete(ctx, b.pool, a)
	require.True(t, errs.Is(err, errs.Conflict), "%v", err)
	require.Len(t, errs.UsedBy(err), 2)
}

func addr(i int) string { return "user" + string(rune('0'+i)) + "@example.com" }
