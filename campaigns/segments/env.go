package segments

import (
	"encoding/json"
	"fmt"
	"reflect"
	"time"

	"github.com/peykar/peykar/internal/profile"
)

// segmentEnv is the environment a segment rule sees. Missing timestamps (a
// contact that never opened, gave no consent date, …) are the zero time,
// 0001-01-01 UTC, so days_since of them is very large and comparisons with
// them are well defined.
type segmentEnv struct {
	Contact   contactEnv          `expr:"contact"`
	Stats     statsEnv            `expr:"stats"`
	RFM       rfmEnv              `expr:"rfm"`
	Churn     churnEnv            `expr:"churn"`
	Response  responseEnv         `expr:"response"`
	Cluster   clusterEnv          `expr:"cluster"`
	Now       time.Time           `expr:"now"`
	HasTag    func(string) bool   `expr:"has_tag"`
	DaysSince func(time.Time) int `expr:"days_since"`
}

// contactEnv is the contact as a segment sees it: the one contact profile
// (its fields promoted: contact.email, contact.tags…) and its consent.
type contactEnv struct {
	profile.Contact
	Consent consentEnv `expr:"consent"`
	// Topics are the names of the topics the contact is subscribed to
	// (not pending, not unsubscribed): "News" in contact.topics.
	Topics []string `expr:"topics"`
}

type consentEnv struct {
	Source string    `expr:"source"`
	At     time.Time `expr:"at"`
	IP     string    `expr:"ip"`
}

type statsEnv struct {
	Sent           int       `expr:"sent"`
	Opens          int       `expr:"opens"`
	Clicks         int       `expr:"clicks"`
	Conversions    int       `expr:"conversions"`
	Revenue        float64   `expr:"revenue"`
	LastOpenAt     time.Time `expr:"last_open_at"`
	LastClickAt    time.Time `expr:"last_click_at"`
	LastPurchaseAt time.Time `expr:"last_purchase_at"`
}

// The analytics scores (table contact_scores, written by
// campaigns/analytics). A contact without scores reads segment "" and 0.
type rfmEnv struct {
	Recency   int     `expr:"recency"`
	Frequency int     `expr:"frequency"`
	Monetary  int     `expr:"monetary"`
	Segment   string  `expr:"segment"`
	Value     float64 `expr:"value"`
}

type churnEnv struct {
	Risk float64 `expr:"risk"`
}

type responseEnv struct {
	Likelihood float64 `expr:"likelihood"`
}

type clusterEnv struct {
	ID int `expr:"id"`
}

// newSegmentEnv returns an environment whose functions are bound to it.
func newSegmentEnv(now time.Time) *segmentEnv {
	e := &segmentEnv{Now: now}
	e.HasTag = e.hasTag
	e.DaysSince = e.daysSince
	return e
}

func (e *segmentEnv) hasTag(t string) bool {
	for _, x := range e.Contact.Tags {
		if x == t {
			return true
		}
	}
	return false
}

// daysSince is the number of whole days from t to now, rounded down, on
// whole seconds (the SQL translation computes exactly the same).
func (e *segmentEnv) daysSince(t time.Time) int {
	d := e.Now.Unix() - t.Unix()
	q := d / 86400
	if d%86400 < 0 {
		q--
	}
	return int(q)
}

// envRow is one contacts row as the Go evaluation path reads it (see
// goPlan.columns for the select list and decode for the reading). Columns
// the rule does not read keep their zero values.
type envRow struct {
	attrs              []byte   // the whole attributes object (JSON), when read
	keyVals            [][]byte // else the attributes the rule reads (JSON, nil when missing)
	id                 int64
	email, name        string
	status             string
	tags               []string // reused between rows
	createdAt          time.Time
	consentSource      string
	consentAt          time.Time
	consentIP          string
	sent, opens        int
	clicks, convs      int
	revenue            float64
	lastOpen           time.Time
	lastClick          time.Time
	lastPurchase       time.Time
	rfmR, rfmF, rfmM   int
	rfmSegment         string
	rfmValue           float64
	churnRisk          float64
	responseLikelihood float64
	clusterID          int
	topics             []string
	attrMap            map[string]any // reused between rows
	strs               internTable
}

func newEnvRow(p goPlan) *envRow {
	return &envRow{keyVals: make([][]byte, len(p.keys)), attrMap: map[string]any{}}
}

// fill loads the row into e.
func (r *envRow) fill(e *segmentEnv, p goPlan) error {
	c := &e.Contact
	c.ID, c.Email, c.Name, c.Tags, c.Status, c.CreatedAt = r.id, r.email, r.name, r.tags, r.status, r.createdAt
	clear(r.attrMap)
	switch {
	case p.allAttrs && len(r.attrs) > 0:
		if err := json.Unmarshal(r.attrs, &r.attrMap); err != nil {
			return fmt.Errorf("contact %d: attributes: %w", r.id, err)
		}
	case len(p.keys) > 0:
		for i, k := range p.keys {
			if r.keyVals[i] == nil {
				continue // missing: the map lookup gives nil, as for the whole object
			}
			v, err := decodeScalar(r.keyVals[i])
			if err != nil {
				return fmt.Errorf("contact %d: attribute %q: %w", r.id, k, err)
			}
			r.attrMap[k] = v
		}
	}
	c.Attributes = r.attrMap
	c.Consent = consentEnv{Source: r.consentSource, At: r.consentAt, IP: r.consentIP}
	c.Topics = r.topics
	e.Stats = statsEnv{Sent: r.sent, Opens: r.opens, Clicks: r.clicks, Conversions: r.convs, Revenue: r.revenue,
		LastOpenAt: r.lastOpen, LastClickAt: r.lastClick, LastPurchaseAt: r.lastPurchase}
	e.RFM = rfmEnv{Recency: r.rfmR, Frequency: r.rfmF, Monetary: r.rfmM, Segment: r.rfmSegment, Value: r.rfmValue}
	e.Churn = churnEnv{Risk: r.churnRisk}
	e.Response = responseEnv{Likelihood: r.responseLikelihood}
	e.Cluster = clusterEnv{ID: r.clusterID}
	return nil
}

// EnvType is the type of the environment a segment rule sees, for pages
// that list the names a rule may use.
func EnvType() reflect.Type { return reflect.TypeFor[segmentEnv]() }
