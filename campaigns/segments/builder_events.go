package segments

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/expr-lang/expr/ast"
	"github.com/jackc/pgx/v5"

	"github.com/peykar/peykar/internal/errs"
	"github.com/peykar/peykar/internal/safetext"
)

// The builder's event conditions. An event field compares a measure of
// the contact's events of one type (Node.Event) with a number: their
// count or the sum of their values within a window (Node.Window), or the
// value of the latest one. A campaign field (opened, clicked) says whether
// the contact opened or clicked the campaign Node.Value names (an id, or
// a name when it is not all digits).

// KindCampaign is the kind of the opened and clicked fields.
const KindCampaign = "campaign"

// The event and campaign fields.
const (
	fieldEventCount = "events.count"
	fieldEventSum   = "events.sum"
	fieldEventLast  = "events.last.value"
	fieldOpened     = "opened"
	fieldClicked    = "clicked"
)

// eventFields are the builder's event and campaign fields (group
// "events"); BuilderFields adds the event types and campaigns it knows.
var eventFields = []Field{
	{Field: fieldEventCount, Kind: KindNumber, Group: "events", Window: true},
	{Field: fieldEventSum, Kind: KindNumber, Group: "events", Window: true},
	{Field: fieldEventLast, Kind: KindNumber, Group: "events"},
	{Field: fieldOpened, Kind: KindCampaign, Group: "events"},
	{Field: fieldClicked, Kind: KindCampaign, Group: "events"},
}

// isEventField reports whether f is one of the event measures (which take
// an event type).
func isEventField(f string) bool {
	return f == fieldEventCount || f == fieldEventSum || f == fieldEventLast
}

// takesWindow reports whether the event field f takes a window.
func takesWindow(f string) bool { return f == fieldEventCount || f == fieldEventSum }

// CampaignChoice is a campaign the builder's opened and clicked offer.
type CampaignChoice struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// wellKnownEvents are offered even before any has been recorded.
var wellKnownEvents = []string{"signup", "purchase", "cart_abandoned"}

// eventChoices returns the event types the builder offers: the well-known
// ones and those of the newest recorded events (a bounded sample), and
// the campaigns (newest first, archived ones left out).
func eventChoices(ctx context.Context, db DBTX) ([]string, []CampaignChoice, error) {
	rows, err := db.Query(ctx, queries.Get("builder_event_types"), discoverySample)
	if err != nil {
		return nil, nil, fmt.Errorf("event types: %w", err)
	}
	seen, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, nil, fmt.Errorf("event types: %w", err)
	}
	types := append([]string(nil), wellKnownEvents...)
	for _, s := range seen {
		if !containsString(types, s) {
			types = append(types, s)
		}
	}
	rows, err = db.Query(ctx, queries.Get("builder_campaigns"), maxCampaignChoices)
	if err != nil {
		return nil, nil, fmt.Errorf("campaigns: %w", err)
	}
	camps, err := pgx.CollectRows(rows, pgx.RowToStructByPos[CampaignChoice])
	if err != nil {
		return nil, nil, fmt.Errorf("campaigns: %w", err)
	}
	return types, camps, nil
}

// maxCampaignChoices bounds the campaigns the builder lists.
const maxCampaignChoices = 200

func containsString(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

// writeEventCondition writes an event or campaign condition, or "" when
// c is neither.
func writeEventCondition(c Node) string {
	switch c.Field {
	case fieldEventCount:
		return "events.count(" + quote(c.Event) + ", " + quote(c.Window) + ") " + numberOps[c.Op] + " " + c.Value
	case fieldEventSum:
		return "events.sum(" + quote(c.Event) + ", \"value\", " + quote(c.Window) + ") " + numberOps[c.Op] + " " + c.Value
	case fieldEventLast:
		return "events.last(" + quote(c.Event) + ").value " + numberOps[c.Op] + " " + c.Value
	case fieldOpened, fieldClicked:
		arg := quote(c.Value)
		if isID(c.Value) {
			arg = c.Value
		}
		call := c.Field + "(" + arg + ")"
		if c.Op == "not_engaged" {
			return "!" + call
		}
		return call
	}
	return ""
}

// isID reports whether a campaign value is an id (all digits, no leading
// zero).
func isID(s string) bool {
	n, err := strconv.ParseInt(s, 10, 64)
	return err == nil && n > 0 && strconv.FormatInt(n, 10) == s
}

// normalizeEventCondition checks what event and campaign conditions add
// to the others: an event type and (count, sum) a window for events, a
// campaign for opened and clicked, and neither elsewhere.
func normalizeEventCondition(c Node, at string) (Node, error) {
	switch {
	case isEventField(c.Field):
		if strings.TrimSpace(c.Event) == "" || safetext.HasNUL(c.Event) {
			return Node{}, errs.Field(at+".event", "names no event type")
		}
		if c.Op == "between" {
			return Node{}, errs.Field(at+".op", "%q does not apply to %s", c.Op, c.Field)
		}
		if !takesWindow(c.Field) {
			if c.Window != "" {
				return Node{}, errs.Field(at+".window", "%s takes no window", c.Field)
			}
			return c, nil
		}
		if _, err := parseWindow(c.Window); err != nil {
			return Node{}, errs.Field(at+".window", "%s", err.Error())
		}
	case c.Field == fieldOpened || c.Field == fieldClicked:
		if c.Event != "" || c.Window != "" {
			return Node{}, errs.Field(at+".event", "%s takes a campaign only", c.Field)
		}
		if strings.TrimSpace(c.Value) == "" || safetext.HasNUL(c.Value) || (!isID(c.Value) && strings.Trim(c.Value, "0123456789") == "") {
			return Node{}, errs.Field(at+".value", "names no campaign (its id, or its name)")
		}
	default:
		if c.Event != "" || c.Window != "" {
			return Node{}, errs.Field(at+".event", "only event conditions take an event type and a window")
		}
	}
	return c, nil
}

// parseEventCondition reads the conditions writeEventCondition writes.
func parseEventCondition(n ast.Node) (Node, bool) {
	switch x := n.(type) {
	case *ast.UnaryNode:
		if x.Operator == "!" || x.Operator == "not" {
			if c, ok := parseEngaged(x.Node); ok {
				c.Op = "not_engaged"
				return c, true
			}
		}
	case *ast.CallNode:
		return parseEngaged(x)
	case *ast.BinaryNode:
		op := ""
		for name, sym := range numberOps {
			if sym == x.Operator {
				op = name
			}
		}
		v, isNum := number(x.Right)
		if op == "" || !isNum {
			return Node{}, false
		}
		c, ok := parseEventMeasure(x.Left)
		c.Op, c.Value = op, v
		return c, ok
	}
	return Node{}, false
}

// parseEventMeasure reads events.count(e, w), events.sum(e, "value", w)
// and events.last(e).value.
func parseEventMeasure(n ast.Node) (Node, bool) {
	if m, ok := n.(*ast.MemberNode); ok {
		p, isS := m.Property.(*ast.StringNode)
		if !isS || m.Optional || m.Method || p.Value != "value" || !isEventCall(m.Node, "last") {
			return Node{}, false
		}
		t, ok := termOf(m.Node)
		return Node{Field: fieldEventLast, Event: t.typ}, ok
	}
	t, ok := termOf(n)
	if !ok {
		return Node{}, false
	}
	switch {
	case t.kind == tkCount:
		return Node{Field: fieldEventCount, Event: t.typ, Window: t.window}, true
	case t.kind == tkSum && t.field == "value":
		return Node{Field: fieldEventSum, Event: t.typ, Window: t.window}, true
	}
	return Node{}, false
}

// parseEngaged reads opened(c) and clicked(c).
func parseEngaged(n ast.Node) (Node, bool) {
	t, ok := termOf(n)
	if !ok || (t.kind != tkOpened && t.kind != tkClicked) {
		return Node{}, false
	}
	c := Node{Field: kindName(t.kind), Op: "engaged", Value: t.camp}
	if t.camp == "" {
		c.Value = strconv.FormatInt(t.campID, 10)
	} else if strings.Trim(t.camp, "0123456789") == "" {
		return Node{}, false // a name of digits would read back as an id
	}
	return c, true
}
