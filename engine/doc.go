// Package engine is Peykar's runtime: the River job arguments and workers
// (launch, send, rules, scheduled checks, housekeeping), the mailer (a pool of
// go-mail SMTP connections, rate limiters, error classification), the webhook
// channel, and expr evaluation at run time. It uses the definitions of
// campaigns, templates and tracking and owns no CRUD of its own.
package engine
