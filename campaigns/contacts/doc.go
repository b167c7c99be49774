// Package contacts owns the people Peykar writes to: contact profiles with
// their consent and behavioural stats, address hygiene (validation,
// normalisation, suppression), CSV import as a River job, segments (expr
// predicates over a contact, translated to SQL when possible and evaluated in
// Go otherwise), transactions posted through the events API, erasure and
// export of a person's data, and the REST handlers for all of these.
//
// # Engine API
//
// The sending engine consumes CompileRule, GetSegment, MatchPage, GetMany,
// IsSendable, Suppress, BumpSent and EnsureByEmail. Every store function
// takes a DBTX so it can run inside the caller's transaction. A contact is
// sendable when its status is active and neither its address nor its domain
// is on the suppression list; MatchPage only ever returns sendable contacts.
//
// # Segment rules
//
// A rule is an expr predicate over contact (id, email, name, attributes,
// tags, status, created_at, consent.source/at/ip), stats (sent, opens,
// clicks, conversions, revenue, last_open_at, last_click_at,
// last_purchase_at) and now, with days_since(t) and has_tag(s). Missing
// timestamps are the zero time. Rules are compiled without expr's optimiser
// and may use neither ranges nor nested closures; a contact on which a rule
// fails at run time (say `contact.attributes.age > 30` where age is text)
// does not match. Erased contacts match no rule.
//
// A rule made only of comparisons, and/or/not, in, contains, startsWith,
// endsWith, matches, attribute access, has_tag, days_since and
// len(contact.tags) runs as one parameterised SQL WHERE clause that selects
// exactly what the Go evaluation would (rule_translate.go states the
// semantics; a property test checks them on random rules and contacts).
// Other rules run in Go over keyset pages of contacts, reading only the
// columns and attributes they use, after SQL has applied whatever
// conjuncts of the rule translate.
//
// # CSV import
//
// ImportCSV (behind POST /contacts/import's River job and ImportFile for the
// command line) streams a CSV file with a header: email, name, tags
// (separated by ; or |), consent_source, and any other column as an
// attribute (plain decimal numbers become JSON numbers). Bad lines are
// rejected with their line number and reason; an address repeated in the
// file is merged into its first line's contact; existing contacts are
// merged (mode upsert) or left alone (skip-existing), and their status is
// never changed, so suppression survives a re-import. Rows are written in
// batches (COPY into a temporary table, then one INSERT … ON CONFLICT) on
// several connections, each owning a hash partition of the addresses.
//
// # Tables
//
// contacts is the one writer of contacts, transactions, suppressions,
// imports and import_chunks; its static SQL is in queries.sql. Other
// packages write them through its functions, passing their DBTX: the
// tracking writer queues contact stats and statuses in its own batch
// (QueueEngagement, QueueStatus) and attributes conversions
// (AttributeToCampaign, AttributeToDelivery); the demo loads its audience
// with BulkInsert, CopyTransactions and RefreshPurchaseStats. Erase clears
// the person's events through an EventEraser (tracking implements it;
// contacts cannot import tracking, which imports contacts).
package contacts
