// Package contacts owns the people Peykar writes to: contact profiles with
// their consent and behavioural stats, address hygiene (validation,
// normalisation, suppression), CSV import as a River job, transactions
// posted through the events API, erasure and export of a person's data, and
// the REST handlers for all of these. Segments (the expr language that
// selects contacts) are package campaigns/segments, which reads contacts;
// GET /contacts?segment_id= filters through the SegmentFilter that package
// provides (Deps.Segments).
//
// # Engine API
//
// The sending engine consumes GetMany, IsSendable, Suppress, BumpSent and
// EnsureByEmail. Every store function takes a DBTX so it can run inside
// the caller's transaction. A contact is sendable when its status is active
// and neither its address nor its domain is on the suppression list
// (SendableSQL, which segments.MatchPage selects).
//
// # CSV import
//
// ImportCSV (behind POST /contacts/import's River job and ImportFile for the
// command line) streams a CSV file with a header: email, name, tags
// (separated by ; or |), consent_source, topics (live topic names,
// separated like tags: see import_topics.go), and any other column as an
// attribute (plain decimal numbers become JSON numbers). Bad lines are
// rejected with their line number and reason; an address repeated in the
// file is merged into its first line's contact; existing contacts are
// merged (mode upsert) or left alone (skip-existing), and their status is
// never changed, so suppression survives a re-import. Rows are written in
// batches (COPY into a temporary table, then one INSERT … ON CONFLICT) on
// several connections, each owning a hash partition of the addresses.
//
// # Editing and bulk actions
//
// Patch (PATCH /contacts/{id}) changes only the fields given: attributes
// merge key by key (null removes a key), tags_add and tags_remove, name,
// status. POST /contacts/bulk selects contacts by a filter (a stored
// segment and/or the list's search), a rule or ids, and a BulkWorker (a
// River job) tags, untags, suppresses, erases or exports them in keyset
// batches: each batch's changes, its export rows and the job's cursor and
// counts commit together, so a resumed job does each contact once. An
// export's CSV is stored in chunks (any process can serve it, a resumed
// job neither loses nor repeats rows) and deleted a day after it finished
// (BulkExpireWorker). Count gives the contact list's total.
//
// # Tables
//
// contacts is the one writer of contacts, transactions, suppressions,
// imports, import_chunks, bulk_jobs and bulk_export_chunks; its static SQL
// is in queries.sql. Other
// packages write them through its functions, passing their DBTX: the
// tracking writer queues contact stats and statuses in its own batch
// (QueueEngagement, QueueStatus) and attributes conversions
// (AttributeToCampaign, AttributeToDelivery); the demo loads its audience
// with BulkInsert, CopyTransactions and RefreshPurchaseStats. Erase clears
// the person's events through an EventEraser (tracking implements it;
// contacts cannot import tracking, which imports contacts).
package contacts
