// Package deliveries owns the deliveries table: the per-campaign send
// ledger, one row per (campaign, step, contact) with its status, claim,
// outcome and the firsts of what the recipient did.
//
// It is the only package that writes the table. The engine creates rows
// (launch pages, follow-up steps), claims them for a send job, records
// outcomes, skips what a cancel leaves and re-queues what a dead job
// orphaned; the tracking writer sets firsts and statuses through
// QueueSetTracked, in the batch it already sends, so no round trip is
// added. Every function takes a DBTX (a pool or a pgx.Tx), so the writes
// commit in the caller's transaction with the rollups and jobs they cause.
//
// The package imports neither campaigns, engine nor tracking: it returns
// the rows it changed (Final) and the caller counts them.
package deliveries
