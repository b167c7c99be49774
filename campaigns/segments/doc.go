// Package segments owns the segments table and the segment language: a
// segment is a named expr predicate over a contact, compiled once
// (CompileSegment) and then run as one parameterised SQL WHERE clause when
// it can be, and evaluated in Go over keyset pages of contacts otherwise.
// It also serves the /segments REST endpoints (Routes). It reads contacts
// (and contact_scores, suppressions) but writes none of them.
//
// # Engine API
//
// The sending engine, campaigns and reports consume GetSegment,
// CompileSegment (or CompileStored), MatchPage and Count. Every store
// function takes a DBTX (contacts.DBTX) so it can run inside the caller's
// transaction. MatchPage only ever returns sendable contacts (see
// contacts.IsSendable) and counts the others. *Compiled implements
// contacts.SegmentFilter, through which GET /contacts?segment_id= filters
// (Filter is the loader contacts.Deps.Segments takes).
//
// # The language
//
// A segment is an expr predicate over contact (id, email, name, attributes,
// tags, status, created_at, consent.source/at/ip), stats (sent, opens,
// clicks, conversions, revenue, last_open_at, last_click_at,
// last_purchase_at), the analytics scores (rfm, churn, response, cluster)
// and now, with days_since(t) and has_tag(s), and event conditions over
// the contact's transactions and engagement: events.count(type, window),
// events.sum(type, field, window), events.last(type) (.at, .value,
// .currency, .attributes; nil when there is none, its fields zero),
// opened(campaign) and clicked(campaign) (events.go; campaign names are
// resolved when a segment is saved, CheckCampaigns). Missing timestamps
// are the zero time. Segments are compiled without expr's optimiser and may use
// neither ranges nor nested closures; a contact on which a segment fails at
// run time (say `contact.attributes.age > 30` where age is text) does not
// match. Erased contacts match no segment. The API calls the source text
// "rule" (the field of POST /segments); "rule" in Go code means a
// campaign's follow-up rule (package campaigns).
//
// A segment made only of comparisons, and/or/not, in, contains,
// startsWith, endsWith, matches, attribute access, has_tag, days_since,
// timestamps compared with date("YYYY-MM-DD"), len(contact.tags) and
// event conditions compared with literals (events_sql.go) runs
// as one parameterised SQL WHERE clause that selects
// exactly what the Go evaluation would (translate.go states the semantics;
// TestRuleSQLMatchesGo checks them on random segments and contacts). Other
// segments run in Go over keyset pages of contacts, reading only the
// columns and attributes they use (plan.go, decode.go), each event term
// as an extra column of the same query, after SQL has applied whatever
// conjuncts translate.
//
// # The builder
//
// The admin UI's segment builder edits a rule as a tree of all/any groups
// of field/operator/value conditions (Node). Rule writes a tree as expr;
// ParseBuilder reads a rule back with expr's parser, or says why it does
// not fit (NotFitError), so the text stays the source of truth; property
// tests hold tree → rule → tree equal and a rewritten rule's meaning
// unchanged. BuilderFields lists the fields, with the attributes and tags
// found on the newest contacts.
package segments
