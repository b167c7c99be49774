// Package messages is the transactional API (issue 19): POST
// /api/v1/messages sends one template to one contact or address, with
// per-message data ({{ .Data.order_id }}) and an Idempotency-Key honoured
// for 24 hours.
//
// A message is a row of the messages table (this package owns it) and one
// delivery of its template's transactional campaign (campaigns
// EnsureTransactional) in a round of its own (the message's id), so its
// sends, opens and clicks land in the same reports and rollups as campaign
// mail. The API's transaction stores the message, its delivery and a River
// job (SendArgs, on QueueMessages) together; the engine works the job
// (engine.MessageWorker) through the same render path, mailer pool and
// outcome recording as campaign sends, and sets the message's status with
// the delivery's (Finish).
//
// Idempotency: the unique idempotency_key decides between concurrent
// requests with one key: the second waits for the first's commit and gets
// its answer (or a 422 when its body differs: the request hash). Keys older
// than KeyTTL are released on use and by the ExpireKeysWorker sweep.
package messages
