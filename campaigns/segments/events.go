package segments

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/expr-lang/expr/ast"
)

// Event conditions: what a segment can say about a contact's events (the
// transactions table: purchases, sign-ups, any custom type) and about its
// engagement with a campaign (deliveries' first human open and click).
//
//	events.count(type, window)         int: events of type within window
//	events.sum(type, field, window)    float: their "value", or a numeric attribute
//	events.last(type)                  the latest event of type (nil: none)
//	    .at .value .currency .attributes
//	opened(campaign) clicked(campaign) bool: campaign is an id or a name
//
// A window is a duration string ("30m", "24h", "7d", "2w") and reaches
// back from the evaluation's now: an event counts when now − window ≤
// occurred_at ≤ now. events.last sees events up to now. Every argument is
// a literal, checked when the segment is saved (events_check.go), so each
// distinct call is one term whose value SQL computes: the SQL path inline
// (events_sql.go), the Go path as extra columns of the page it reads.

// eventsEnv is the `events` object a segment sees.
type eventsEnv struct {
	Count func(typ, window string) int            `expr:"count"`
	Sum   func(typ, field, window string) float64 `expr:"sum"`
	Last  func(typ string) *lastEventEnv          `expr:"last"`
}

// lastEventEnv is a contact's latest event of a type. Reading a field of
// a missing one (events.last("purchase").value with no purchase) gives the
// field's zero value (0, the zero time, "", no attributes) rather than an
// error: lastEventPatch rewrites such reads.
type lastEventEnv struct {
	At         time.Time      `expr:"at"`
	Value      float64        `expr:"value"`
	Currency   string         `expr:"currency"`
	Attributes map[string]any `expr:"attributes"`
}

// termKind is what one event term computes.
type termKind uint8

const (
	tkCount termKind = iota + 1
	tkSum
	tkLast
	tkOpened
	tkClicked
)

// eventTerm is one distinct event call of a rule, with its literal
// arguments.
type eventTerm struct {
	kind   termKind
	typ    string        // event type (count, sum, last)
	field  string        // sum's field: "value" or an attribute name
	window string        // as written (count, sum)
	dur    time.Duration // the window, parsed
	campID int64         // opened/clicked by id
	camp   string        // opened/clicked by name ("" when by id)
}

// termVal is one term's value for the current contact.
type termVal struct {
	n     int64     // count; 1/0 for opened, clicked
	f     float64   // sum; last's value
	at    time.Time // last's occurred_at (zero: none)
	has   bool      // last: there is one
	cur   string    // last's currency
	attrs []byte    // last's attributes (JSON), valid until the next row
}

// findTerm returns the index of the term a call with these arguments
// reads, or -1.
func findTerm(terms []eventTerm, kind termKind, typ, field, window string, camp any) int {
	for i, t := range terms {
		if t.kind != kind || t.typ != typ || t.field != field || t.window != window {
			continue
		}
		switch c := camp.(type) {
		case nil:
			return i
		case string:
			if t.camp == c {
				return i
			}
		case int:
			if t.camp == "" && t.campID == int64(c) {
				return i
			}
		}
	}
	return -1
}

// bindEvents points e's event functions at the terms of a rule and the
// current row's values (vals[i] is terms[i]'s).
func (e *segmentEnv) bindEvents(terms []eventTerm, vals []termVal) {
	e.terms, e.vals = terms, vals
}

func (e *segmentEnv) term(kind termKind, typ, field, window string, camp any) *termVal {
	i := findTerm(e.terms, kind, typ, field, window, camp)
	if i < 0 || i >= len(e.vals) {
		// Every call's arguments are literals collected at compile time,
		// so this is a bug; the evaluation fails (the contact does not
		// match) rather than read a wrong value.
		panic(fmt.Sprintf("segments: no loaded value for this event condition (%d %q %q %q %v)", kind, typ, field, window, camp))
	}
	return &e.vals[i]
}

func (e *segmentEnv) eventCount(typ, window string) int {
	return int(e.term(tkCount, typ, "", window, nil).n)
}

func (e *segmentEnv) eventSum(typ, field, window string) float64 {
	return e.term(tkSum, typ, field, window, nil).f
}

func (e *segmentEnv) eventLast(typ string) *lastEventEnv {
	v := e.term(tkLast, typ, "", "", nil)
	if !v.has {
		return nil
	}
	attrs := map[string]any{}
	if len(v.attrs) > 0 {
		if err := json.Unmarshal(v.attrs, &attrs); err != nil {
			panic(fmt.Sprintf("segments: last %q event's attributes: %v", typ, err))
		}
	}
	return &lastEventEnv{At: v.at, Value: v.f, Currency: v.cur, Attributes: attrs}
}

func (e *segmentEnv) opened(campaign any) bool {
	return e.term(tkOpened, "", "", "", campaign).n != 0
}

func (e *segmentEnv) clicked(campaign any) bool {
	return e.term(tkClicked, "", "", "", campaign).n != 0
}

// lastEventPatch makes reading a field of a missing last event give the
// field's zero value: events.last(t).f becomes (events.last(t)?.f ?? zero).
// The SQL translation reads such fields with the same zeros (COALESCE).
type lastEventPatch struct{}

// lastZeros are the values of a missing last event's fields.
var lastZeros = map[string]any{"at": time.Time{}, "value": 0.0, "currency": "", "attributes": map[string]any{}}

// Visit implements ast.Visitor.
func (lastEventPatch) Visit(n *ast.Node) {
	m, ok := (*n).(*ast.MemberNode)
	if !ok || !isEventCall(m.Node, "last") {
		return
	}
	p, ok := m.Property.(*ast.StringNode)
	if !ok {
		return
	}
	zero, ok := lastZeros[p.Value]
	if !ok {
		return
	}
	m.Optional = true
	patched := &ast.BinaryNode{Operator: "??", Left: &ast.ChainNode{Node: m}, Right: &ast.ConstantNode{Value: zero}}
	patched.SetLocation(m.Location())
	ast.Patch(n, patched)
}

// isEventCall reports whether n is a call events.<method>(…).
func isEventCall(n ast.Node, method string) bool {
	c, ok := n.(*ast.CallNode)
	if !ok {
		return false
	}
	m, ok := c.Callee.(*ast.MemberNode)
	if !ok {
		return false
	}
	id, ok := m.Node.(*ast.IdentifierNode)
	p, isS := m.Property.(*ast.StringNode)
	return ok && isS && id.Value == "events" && p.Value == method
}
