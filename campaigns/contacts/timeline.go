package contacts

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/peykar/peykar/internal/errs"
)

// The kinds of a timeline item.
const (
	// TimelineEvent is a contact event: a transaction of any type
	// (purchase, signup, a custom type).
	TimelineEvent = "event"
	// TimelineTracking is what the contact did with a message: an open,
	// a click (with its link), an unsubscribe, a bounce, a complaint.
	TimelineTracking = "tracking"
	// TimelineDelivery is a message to the contact: its campaign, step
	// and status (sent, bounced, queued, …).
	TimelineDelivery = "delivery"
)

// TimelineKinds are the timeline's kinds, in the order filters show them.
var TimelineKinds = []string{TimelineEvent, TimelineTracking, TimelineDelivery}

// kindRank orders items of one instant: contact events, then tracking,
// then deliveries (the timeline query's k).
var kindRank = map[string]int{TimelineDelivery: 1, TimelineTracking: 2, TimelineEvent: 3}

// TimelineItem is one entry of a contact's timeline.
type TimelineItem struct {
	Kind string    `json:"kind"`
	ID   int64     `json:"id"` // the transaction's, event's or delivery's id
	At   time.Time `json:"at"`
	// Type is the event type (purchase, signup, …), the tracking event
	// (open, click, …) or the delivery's status (sent, bounced, …).
	Type         string         `json:"type"`
	Value        float64        `json:"value,omitempty"`
	Currency     string         `json:"currency,omitempty"`
	CampaignID   *int64         `json:"campaign_id,omitempty"`
	CampaignName string         `json:"campaign_name,omitempty"`
	Step         string         `json:"step,omitempty"`
	URL          string         `json:"url,omitempty"`     // a click's link
	Machine      bool           `json:"machine,omitempty"` // tracking by a machine (a scanner)
	Reason       string         `json:"reason,omitempty"`  // why machine, a bounce's or a delivery's error
	Attributes   map[string]any `json:"attributes,omitempty"`
}

// TimelineQuery selects a page of a contact's timeline.
type TimelineQuery struct {
	// Kinds keeps only these kinds; empty keeps all.
	Kinds []string
	// After is the cursor of the previous page's last item ("" for the
	// newest page).
	After string
	// Limit is the page size: 1–200, default 50.
	Limit int
}

// Timeline reads one page of a contact's timeline, newest first: its
// events, its messages' tracking events and its deliveries, merged. next
// is the cursor of the following (older) page, "" at the end. Each page is
// one bounded query: a long history is never loaded whole. An unknown kind
// or a malformed cursor gives errs.Invalid.
func Timeline(ctx context.Context, db DBTX, contactID int64, q TimelineQuery) (items []TimelineItem, next string, err error) {
	if q.Limit <= 0 {
		q.Limit = 50
	}
	if q.Limit > 200 {
		return nil, "", errs.Field("limit", "must be at most 200")
	}
	for _, k := range q.Kinds {
		if _, ok := kindRank[k]; !ok {
			return nil, "", errs.Field("kind", "must be one of %s", strings.Join(TimelineKinds, ", "))
		}
	}
	at, k, id, err := parseTimelineCursor(q.After)
	if err != nil {
		return nil, "", err
	}
	kinds := q.Kinds
	if kinds == nil {
		kinds = []string{}
	}
	rows, err := db.Query(ctx, query("timeline"), contactID, kinds, at, k, id, q.Limit)
	if err != nil {
		return nil, "", fmt.Errorf("contact %d timeline: %w", contactID, err)
	}
	defer rows.Close()
	items = []TimelineItem{}
	for rows.Next() {
		var it TimelineItem
		var rank int
		if err := rows.Scan(&rank, &it.ID, &it.At, &it.Type, &it.Value, &it.Currency, &it.CampaignID,
			&it.CampaignName, &it.Step, &it.URL, &it.Machine, &it.Reason, &it.Attributes); err != nil {
			return nil, "", fmt.Errorf("contact %d timeline: %w", contactID, err)
		}
		it.Kind = rankKind(rank)
		items = append(items, it)
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("contact %d timeline: %w", contactID, err)
	}
	if len(items) == q.Limit {
		last := items[len(items)-1]
		next = timelineCursor(last.At, kindRank[last.Kind], last.ID)
	}
	return items, next, nil
}

func rankKind(rank int) string {
	for k, r := range kindRank {
		if r == rank {
			return k
		}
	}
	return ""
}

// timelineCursor encodes an item's place: microseconds since the epoch
// (PostgreSQL's precision), its kind's rank and its id.
func timelineCursor(at time.Time, rank int, id int64) string {
	return strconv.FormatInt(at.UnixMicro(), 10) + "." + strconv.Itoa(rank) + "." + strconv.FormatInt(id, 10)
}

// timelineEnd is later than any stored time: the first page's cursor.
var timelineEnd = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)

// parseTimelineCursor reads a cursor; "" is the start (after every item).
func parseTimelineCursor(s string) (at time.Time, rank int, id int64, err error) {
	if s == "" {
		return timelineEnd, math.MaxInt32, math.MaxInt64, nil
	}
	bad := errs.Field("after", "must be a cursor from a previous page")
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		return time.Time{}, 0, 0, bad
	}
	us, err1 := strconv.ParseInt(parts[0], 10, 64)
	rank, err2 := strconv.Atoi(parts[1])
	id, err3 := strconv.ParseInt(parts[2], 10, 64)
	if err1 != nil || err2 != nil || err3 != nil || rank < 1 || rank > 3 || id < 0 {
		return time.Time{}, 0, 0, bad
	}
	return time.UnixMicro(us), rank, id, nil
}
