// Package tracking owns what recipients do: the public endpoints (open
// pixel, click redirect, unsubscribe, honeypot), signed tracking tokens,
// the group-commit event writer, machine-traffic classification, the
// rollups reports read, conversion attribution, and asynchronous bounces
// and complaints (an inbound SMTP listener for DSN and ARF reports, and a
// provider webhook). It never changes campaign definitions.
//
// Tokens (Signer) are compact base64url strings: a signed kind byte, the
// delivery id, for clicks the link index (and, only for personalised links,
// the URL), and a 96-bit truncated HMAC-SHA256. Static links redirect only to
// the URL stored in campaign_links for the delivery's campaign and step, so
// the click endpoint is not an open redirect.
//
// Handlers answer after their event is durable: the writer gathers events
// (up to Config.BatchSize or Config.BatchWait) into one transaction that
// stores the events, the deliveries' firsts, rollup counters, contact stats
// and follow-up rule jobs (RuleEventArgs). Events are classified human or
// machine (classify.go); unique human counts are set by human events only.
//
// tracking is the one writer of events and of the counters: rollups,
// rollup_totals, rollup_hours and campaign_people (rollups.go, people.go).
// Other packages change them only through AddCounts, Conversions,
// EventEraser and the writer, in their own transactions; FoldWorker, a
// River periodic job, folds old minute rows into hours. Tables it does not
// own it writes through their owners, in the same transaction or batch:
// contact stats and statuses (contacts.QueueEngagement, QueueStatus),
// transaction attribution (contacts.AttributeToDelivery). Its static SQL
// is in queries.sql; a campaign's settings are read with campaigns/settings,
// the decoder campaigns validates with. Counts turns rollup metric names
// into numbers for every report. docs/architecture.md lists who writes
// what.
//
// docs/tracking.md describes the endpoints, the rollup semantics, the
// machine-traffic rules and their known limits.
package tracking
