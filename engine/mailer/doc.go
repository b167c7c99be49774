// Package mailer sends email over a pool of persistent SMTP connections:
// the transport's configuration (Config, ParseURL, DKIM), the pool and its
// rate limit (Mailer), the pipelined SMTP session that runs the mail
// transactions on a connection, and the classification of each message's
// outcome (Result: sent, temporary or permanent failure).
//
// The engine's send worker calls Mailer.Send with a chunk of built
// messages and records the results; the template editor's test sender
// sends through the same Mailer. go-mail builds the messages (except a
// campaign's, which the sender writes itself: Built) and dials;
// the transactions are this package's, so a chunk costs one write per
// message with PIPELINING, and one write in all with PIPELINING and
// CHUNKING (BDAT). The package owns no table.
package mailer
