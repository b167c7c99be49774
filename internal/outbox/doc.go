// Package outbox is the embedded SMTP catch-all: with no SMTP_URL, peykar
// sends to an in-process SMTP server on loopback that keeps every message in
// PostgreSQL, so a newcomer sees exactly what recipients would receive (and
// can click its tracked links) without a real mail server.
//
// It owns the outbox_messages table (the only writer; queries.sql), the
// listing API (routes.go), the redaction of secrets in stored messages
// (redact*.go) and the retention job (prune_worker.go).
package outbox
