// Package forms owns signup forms: public forms that subscribe a person to
// topics, with double opt-in, spam protection and their numbers.
//
// A form is defined through /api/v1/forms (and the admin Forms page) and
// served, without login, at /f/{id} (a hosted page) and as an embeddable
// HTML snippet posting to the same address. A submit finds or creates the
// contact (campaigns/contacts.EnsureForSignup: a new address is pending
// under double opt-in), marks the form's topics pending or subscribed with
// a consent record (campaigns/topics.Set), stores a signup and, in the same
// transaction, enqueues the confirmation mail (ConfirmArgs, sent by
// ConfirmWorker through a Sender the caller plugs in). The link in that
// mail, /f/confirm/{token}, makes the topics subscribed and the contact
// active.
//
// Spam protection needs no third party: a honeypot field, a signed
// render-time token (a submit sooner than MinFillTime after the page was
// rendered, or with a forged or stale token, is sent back to the form to be
// pressed again), a per-IP rate limit (Limiter) and at most
// MaxMailsPerAddress confirmation mails to one address a day.
//
// # Tables
//
// forms, form_signups and form_events (queries.sql). A form's counters
// (views, submissions, confirmations, rejected) change in the statement
// that appends their form_events row, so they always equal the rows.
package forms
