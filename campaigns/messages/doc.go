// Package messages is the transactional API (issue 19): POST
// /api/v1/messages sends one template to one contact or address, with
// per-message data ({{ .Data.order_id }}) and an Idempotency-Key honoured
// for 24 hours.
//
// A message is a row of the messages table (this package owns it) and one
// delivery of its template's transactional campaign (campaigns
// EnsureTransactional) in a round of its own (the message's id), so its
// sends, opens and clicks land in the same reports and rollups as campaign
// mail. Concurrent requests are stored together (a group commit,
// internal/groupcommit): one transaction stores their messages, their
// deliveries and a River job per MaxBatchJob of them (BatchArgs, on
// QueueMessages), and answers each request once it has committed. The
// engine works a batch (engine.MessageBatchWorker: one claim, one contact
// read) through the same render path, mailer pool and outcome recording as
// campaign sends, and sets each message's status with its delivery's
// (Finish). A group that fails as a whole is stored again one request at
// a time, so a request fails only for reasons of its own.
//
// Idempotency: the unique idempotency_key decides between concurrent
// requests with one key: the second waits for the first's commit and gets
// its answer (or a 422 when its body differs: the request hash). Within
// one group the first request with a key is stored and the others get its
// answer. Keys older
// than KeyTTL are released on use and by the ExpireKeysWorker sweep.
package messages
