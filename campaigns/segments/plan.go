package segments

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/expr-lang/expr/ast"
)

// goPlan is what the Go evaluation path reads for one rule: the columns
// the rule uses (the others are selected as constants, so scanning stays
// uniform) and, when the rule only reads attributes by fixed names, just
// those attributes rather than the whole JSON object.
type goPlan struct {
	all      bool            // contact or stats used whole: read everything
	fields   map[string]bool // "email", "tags", "consent", "sent", …
	allAttrs bool            // decode the whole attributes object
	keys     []string        // else these attributes, one column each
	terms    []eventTerm     // the event terms, a column each (last: four)
}

// envField is one column the Go path may read: its expression, and where
// envRow.decode puts it.
type envField struct {
	name string // the plan field that needs it
	col  string
	dest envCol
}

// envCol says which envRow field a selected column fills.
type envCol uint8

const (
	ecAttrs   envCol = iota // the whole attributes object
	ecAttrKey               // one attribute (envTarget.key says which)
	ecID
	ecEmail
	ecName
	ecTags
	ecStatus
	ecCreatedAt
	ecConsentSource
	ecConsentAt
	ecConsentIP
	ecSent
	ecOpens
	ecClicks
	ecConversions
	ecRevenue
	ecLastOpen
	ecLastClick
	ecLastPurchase
	ecRFMRecency
	ecRFMFrequency
	ecRFMMonetary
	ecRFMSegment
	ecRFMValue
	ecChurnRisk
	ecResponseLikelihood
	ecClusterID
	ecTopics
	ecTermN     // an event term's count (or opened/clicked as 0/1): envTarget.key is the term
	ecTermF     // a sum, or a last event's value
	ecTermAt    // a last event's occurred_at (NULL: none)
	ecTermCur   // a last event's currency
	ecTermAttrs // a last event's attributes
)

// envFields are the columns the Go path can read; a plan selects only
// those its rule uses (a field not selected reads as its zero value: "",
// 0, the zero time, no tags).
var envFields = []envField{
	{"email", "c.email", ecEmail},
	{"name", "c.name", ecName},
	{"tags", "c.tags", ecTags},
	{"status", "c.status", ecStatus},
	{"created_at", "c.created_at", ecCreatedAt},
	{"consent", "c.consent_source", ecConsentSource},
	{"consent", "c.consent_at", ecConsentAt},
	{"consent", "host(c.consent_ip)", ecConsentIP},
	{"sent", statColumn("sent", "0"), ecSent},
	{"opens", statColumn("opens", "0"), ecOpens},
	{"clicks", statColumn("clicks", "0"), ecClicks},
	{"conversions", "c.conversions", ecConversions},
	{"revenue", "c.revenue::float8", ecRevenue},
	{"last_open_at", statColumn("last_open_at", "NULL"), ecLastOpen},
	{"last_click_at", statColumn("last_click_at", "NULL"), ecLastClick},
	{"last_purchase_at", "c.last_purchase_at", ecLastPurchase},
	{"rfm.recency", scoreColumn("rfm_recency::int", "0"), ecRFMRecency},
	{"rfm.frequency", scoreColumn("rfm_frequency::int", "0"), ecRFMFrequency},
	{"rfm.monetary", scoreColumn("rfm_monetary::int", "0"), ecRFMMonetary},
	{"rfm.segment", scoreColumn("rfm_segment", "''::text"), ecRFMSegment},
	{"rfm.value", scoreColumn("value", "0::float8"), ecRFMValue},
	{"churn.risk", scoreColumn("churn_risk", "0::float8"), ecChurnRisk},
	{"response.likelihood", scoreColumn("response_likelihood", "0::float8"), ecResponseLikelihood},
	{"cluster.id", scoreColumn("cluster_id", "0"), ecClusterID},
	{"topics", topicNamesColumn, ecTopics},
}

// envTarget is one selected column's destination.
type envTarget struct {
	col envCol
	key int // for ecAttrKey: the index in goPlan.keys; for ecTerm*: in goPlan.terms
}

// scoreObjects are the rule variables read from contact_scores.
var scoreObjects = map[string]bool{"rfm": true, "churn": true, "response": true, "cluster": true}

// scoreColumn reads one analytics score of contact c, zero when the
// contact has no scores (both paths use it, so they agree).
func scoreColumn(col, zero string) string {
	return "COALESCE((SELECT s." + col + " FROM contact_scores s WHERE s.contact_id = c.id), " + zero + ")"
}

// statColumn reads one of contact c's counters written per message and
// per event, zero (or NULL: no last open or click) when the contact has
// none yet; both paths use it, so they agree. It reads st, the
// contact_stats row joined by contacts.StatsJoin, which every query taking
// a segment's SQL puts after "FROM contacts c".
func statColumn(col, zero string) string {
	if zero == "NULL" {
		return "st." + col
	}
	return "COALESCE(st." + col + ", " + zero + ")"
}

// statColumns are the contact_stats columns statColumn reads.
var statColumns = []string{"sent", "opens", "clicks", "last_open_at", "last_click_at"}

// bareStat returns the contact_stats column that sql, statColumn's reading
// of it, wraps: NULL where statColumn reads the zero (no contact_stats row,
// or no last open or click). A comparison that is false at the zero can be
// written over the bare column as (bare op v AND bare IS NOT NULL): FALSE,
// not NULL, where the zero would be compared, so it means the same as the
// COALESCE'd one, and as it is strict in st PostgreSQL turns the LEFT JOIN
// into an inner join and may start from contact_stats' matching rows (a
// COALESCE'd comparison made it hash the whole of contact_stats).
func bareStat(sql string) (string, bool) {
	for _, col := range statColumns {
		if sql == statColumn(col, "0") || sql == statColumn(col, "NULL") {
			return "st." + col, true
		}
	}
	return "", false
}

// planFor analyses a parsed rule.
func planFor(tree ast.Node) goPlan {
	v := &planVisitor{p: goPlan{fields: map[string]bool{}}, seenKey: map[string]bool{}}
	ast.Walk(&tree, v)
	p := v.p
	if v.idents > v.qualified {
		p.all = true
	}
	if p.all || v.attrRefs > v.keyed {
		p.allAttrs, p.keys = p.fields["attributes"] || p.all, nil
	}
	return p
}

type planVisitor struct {
	p                 goPlan
	idents, qualified int // uses of contact/stats, and those with a fixed field
	attrRefs, keyed   int // uses of contact.attributes, and those with a fixed key
	seenKey           map[string]bool
}

func (v *planVisitor) Visit(n *ast.Node) {
	switch x := (*n).(type) {
	case *ast.IdentifierNode:
		if x.Value == "contact" || x.Value == "stats" || scoreObjects[x.Value] {
			v.idents++
		}
	case *ast.CallNode:
		if id, ok := x.Callee.(*ast.IdentifierNode); ok && id.Value == "has_tag" {
			v.p.fields["tags"] = true
		}
	case *ast.MemberNode:
		prop, ok := x.Property.(*ast.StringNode)
		if id, isID := x.Node.(*ast.IdentifierNode); isID && scoreObjects[id.Value] && ok {
			v.qualified++
			v.p.fields[id.Value+"."+prop.Value] = true
		}
		if id, isID := x.Node.(*ast.IdentifierNode); isID && (id.Value == "contact" || id.Value == "stats") && ok {
			v.qualified++
			v.p.fields[prop.Value] = true
			if prop.Value == "attributes" {
				v.attrRefs++
			}
		}
		if obj, field, isPath := path(x.Node); isPath && obj == "contact" && field == "attributes" && ok {
			v.keyed++
			if !v.seenKey[prop.Value] {
				v.seenKey[prop.Value] = true
				v.p.keys = append(v.p.keys, prop.Value)
			}
		}
	}
}

// columns returns the select list for contacts c (c.id first, then only
// what the rule reads, event terms at now included; c.status too when
// withStatus), the lateral joins to put after "FROM contacts c" (a last
// event's row), with attribute keys and the terms' values as parameters
// numbered after base, and where each column goes.
func (p goPlan) columns(now time.Time, base int, withStatus bool) (string, string, []any, []envTarget) {
	var b strings.Builder
	var args []any
	b.WriteString("c.id")
	targets := []envTarget{{col: ecID}}
	if p.allAttrs {
		b.WriteString(", c.attributes")
		targets = append(targets, envTarget{col: ecAttrs})
	} else {
		for i, k := range p.keys {
			args = append(args, k)
			b.WriteString(", c.attributes -> $" + strconv.Itoa(base+len(args)) + "::text")
			targets = append(targets, envTarget{col: ecAttrKey, key: i})
		}
	}
	for _, f := range envFields {
		if p.all || p.fields[f.name] || (withStatus && f.dest == ecStatus) {
			b.WriteString(", " + f.col)
			targets = append(targets, envTarget{col: f.dest})
		}
	}
	t := &translator{base: base + len(args), now: now}
	var from strings.Builder
	for i, term := range p.terms {
		cols, join, ts := t.termColumns(term, i)
		for _, c := range cols {
			b.WriteString(", " + c)
		}
		from.WriteString(join)
		targets = append(targets, ts...)
	}
	return b.String(), from.String(), append(args, t.args...), targets
}

// decodeScalar decodes one JSON value, with a fast path for the strings,
// numbers and literals attributes mostly hold.
func decodeScalar(b []byte) (any, error) {
	switch {
	case len(b) == 0:
		return nil, nil
	case string(b) == "null":
		return nil, nil
	case string(b) == "true":
		return true, nil
	case string(b) == "false":
		return false, nil
	case b[0] == '"' && len(b) >= 2 && b[len(b)-1] == '"' && !strings.ContainsAny(string(b[1:len(b)-1]), "\\\"") && isPrintableASCIIOrUTF8(b):
		return string(b[1 : len(b)-1]), nil
	case b[0] == '-' || (b[0] >= '0' && b[0] <= '9'):
		if f, err := strconv.ParseFloat(string(b), 64); err == nil {
			return f, nil
		}
	}
	var v any
	err := json.Unmarshal(b, &v)
	return v, err
}

// isPrintableASCIIOrUTF8 reports whether b has no control characters (JSON
// strings cannot hold them raw, so such input takes the slow path).
func isPrintableASCIIOrUTF8(b []byte) bool {
	for _, c := range b {
		if c < 0x20 {
			return false
		}
	}
	return true
}
