// Package contacts owns the people Peykar writes to: contact profiles with
// their consent and behavioural stats, address hygiene (validation,
// normalisation, suppression), CSV import as a River job, segments (expr
// predicates over a contact, translated to SQL when possible and evaluated in
// Go otherwise), transactions posted through the events API, erasure and
// export of a person's data, and the REST handlers for all of these.
//
// The sending engine consumes MatchPage, GetMany, IsSendable, Suppress,
// BumpSent and EnsureByEmail; every store function takes a DBTX so that it
// can run inside the caller's transaction.
package contacts
