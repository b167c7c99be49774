package tracking

import (
	"errors"
	"net/netip"
	"time"
)

// Event types stored in events.type.
const (
	TypeOpen        = "open"
	TypeClick       = "click"
	TypeUnsubscribe = "unsubscribe"
	TypeConversion  = "conversion"
	TypeBounce      = "bounce"
	TypeComplaint   = "complaint"
	TypeHoneypot    = "honeypot"
)

// Rollup metrics (rollups.metric). Campaign-level unique counts are kept at
// link_idx -1; per-link unique clicks have their own metric so that summing a
// metric over all of a campaign's rows never double counts.
const (
	MetricOpens            = "opens"
	MetricUniqueOpens      = "unique_opens"
	MetricClicks           = "clicks"        // at the clicked link's idx
	MetricUniqueClicks     = "unique_clicks" // at link_idx -1: recipients who clicked
	MetricLinkUniqueClicks = "link_unique_clicks"
	MetricUnsubscribes     = "unsubscribes"
	MetricConversions      = "conversions" // value: revenue
	MetricRevenue          = "revenue"
	MetricBounces          = "bounces" // hard bounces
	MetricSoftBounces      = "soft_bounces"
	MetricComplaints       = "complaints"
	MetricHoneypots        = "honeypots"
)

// ErrNotFound is the writer's answer for an event whose delivery, or whose
// link, does not exist. Handlers answer 404.
var ErrNotFound = errors.New("tracking: no such delivery or link")

// ErrUnavailable is the writer's answer when the database cannot take the
// event now (down, unreachable, timing out) or the writer is stopped: the
// event was not recorded. Handlers answer 503.
var ErrUnavailable = errors.New("tracking: event store unavailable")

// Event is one thing a recipient (or a machine) did with a delivery, as
// handed to the writer.
type Event struct {
	Type       string
	DeliveryID int64
	LinkIdx    int    // clicks; -1 otherwise
	URL        string // a personalised click's signed URL; "" for static links
	Value      float64
	// Currency of Value for conversions (ISO 4217, upper case; "" unknown).
	Currency  string
	Machine   bool   // set by the user-agent classifier; the writer adds timing rules
	Reason    string // why machine, or bounce/complaint details
	UserAgent string
	IP        netip.Addr
	At        time.Time
	Hard      bool // bounces: permanent (5.x.x)
	// TopicsOnly: an unsubscribe from a campaign that targets topics,
	// whose topics the handler unsubscribed; the email channel (the
	// contact's status) is left as it is.
	TopicsOnly bool

	// id is the event's id when it was taken before the batch that writes
	// it to events (the follower's events, from event_inbox or events); 0
	// takes one from the sequence.
	id int64
	// stored: the event's row is already in events (a followed click or
	// open, written by its request), with the request's verdict stored
	// (stored.machine, stored.reason); the follower updates the row when
	// its timing rules change the verdict, instead of inserting it.
	stored *verdictRow
}

// verdictRow is the verdict a followed event's row holds.
type verdictRow struct {
	machine bool
	reason  string
}

// Outcome is what the writer learnt while recording an event.
type Outcome struct {
	EventID    int64
	CampaignID int64
	Step       string
	ContactID  int64
	URL        string // clicks: the destination, before UTM parameters
	UTM        UTM
	Machine    bool
	Reason     string
}
