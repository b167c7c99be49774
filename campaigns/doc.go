// Package campaigns owns the campaign: its definition (steps and their
// templates, channel, sender, throttle, schedule, settings), its
// validation, its life cycle (draft, scheduled, running, paused, finished,
// cancelled), the follow-up rules and goals it carries, and its report.
//
// Tables: it is the only writer of campaigns, campaign_steps and
// campaign_links (queries.sql); others call its functions (Get, Start,
// Finish, AdvanceLaunch, SaveLinks, …) with their own transaction (DBTX).
// The report reads, and never writes, what other packages own: the
// tracking rollups and campaign_people, engine's rule_firings, the
// contacts package's transactions.
//
// Where things are:
//   - campaign.go, campaign_input.go: the Campaign type and its validation
//     (normalize), the status machine;
//   - campaign_store.go: the store; service.go: Service, the life cycle,
//     which enqueues and cancels sending through the Runtime interface that
//     package engine implements;
//   - rules.go, rule_missing.go: follow-up rules (on an event or a timer,
//     when a predicate holds, run actions), compiled with expr;
//   - goal.go, goal_terms.go: goals, expr predicates over Metrics;
//   - report*.go: the campaign report (metrics, links, timeline, rules);
//   - handlers.go: the REST API under /api/v1/campaigns.
//
// It never sends mail or runs workers (package engine does), and it does
// not own contacts, segments or templates (campaigns/contacts,
// campaigns/segments and templates do), nor the admin pages (package web
// serves them).
package campaigns
