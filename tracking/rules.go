package tracking

import (
	"time"

	"github.com/riverqueue/river"
)

// RuleEventArgs is the job the event writer enqueues, in the transaction
// that records a human event, when the event's campaign has follow-up rules
// on that event type. The engine's rules worker evaluates them. A click's
// job is scheduled at VerdictAt (VerdictDelay after the click), when its
// classification is final; the worker reads the stored classification of
// EventID then and fires nothing for machine traffic.
type RuleEventArgs struct {
	EventID    int64     `json:"event_id"`
	DeliveryID int64     `json:"delivery_id"`
	CampaignID int64     `json:"campaign_id"`
	ContactID  int64     `json:"contact_id"`
	Step       string    `json:"step"`
	Type       string    `json:"type"`               // open, click, unsubscribe, conversion, bounce, complaint
	LinkIdx    *int      `json:"link_idx,omitempty"` // clicks
	URL        string    `json:"url,omitempty"`      // clicks: the destination
	Value      float64   `json:"value,omitempty"`    // conversions
	At         time.Time `json:"at"`
}

// Kind is the River job kind, "rules".
func (RuleEventArgs) Kind() string { return "rules" }

// InsertOpts puts rule jobs on the "rules" queue.
func (RuleEventArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{Queue: "rules"} }
