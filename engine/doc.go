// Package engine is Peykar's runtime: the River job arguments and workers
// (launch, send, rules, timers, webhooks, the orphan sweep), the webhook
// channel, and expr evaluation of follow-up rules at run time.
//
// It owns the rule_firings and campaign_exits tables (which rule fired for
// which delivery, whose journey a rule stopped). Deliveries are written
// through campaigns/deliveries, counters through tracking, contacts through
// campaigns/contacts, each call taking the worker's transaction. Mail goes
// out through engine/mailer (the SMTP pool and pipelined session).
//
// Every worker embeds internal/baseservice.Base: one logger and one clock
// (Config.Clock), which dates sends and decides when follow-ups, timers and
// retries are due; durations of real work (a launch slice, a chunk's send
// time, cache lifetimes) are measured on the monotonic clock.
package engine
