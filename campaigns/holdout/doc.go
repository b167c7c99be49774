// Package holdout keeps a campaign's holdout group and measures the
// campaign's incremental lift against it (issue 21).
//
// A campaign's settings.holdout is a share in [0, 0.5] of its audience that
// is kept out of every send. Who is held out is decided by a hash of the
// campaign id and the contact id (Held): no random state, so the same
// contact is always in or out of a campaign's holdout. The launch walk and
// a triggered campaign's entries record each member in the
// campaign_holdouts table, which this package owns, before any delivery is
// created (Exclude, Enter): a crash or restart never reassigns anyone, and
// the report counts the group from its rows.
//
// Measure compares the group with the treated people (those who have a
// delivery of the campaign) over the campaign's conversion window: people
// with at least one conversion, conversion events and revenue in the
// reporting currency, each group's conversion rate, the lift and its 95%
// interval (docs/metrics.md, docs/experiments.md).
package holdout
