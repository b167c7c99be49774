// Package demo fills an empty Peykar with a realistic sample audience and a
// running campaign, then plays recipients' behaviour against the real public
// tracking endpoints, so a newcomer sees the whole loop (sending, opens,
// human and machine clicks, follow-up rules, conversions, goals) in a few
// minutes.
//
// Everything goes through the product's own paths: contacts and their
// purchase history are bulk-loaded with COPY (and the contacts' stats brought
// up to date), templates, the segment and the campaign are created and
// launched through the REST API with an API token, the messages are read
// back from the embedded SMTP catch-all (package outbox), and the simulator
// opens pixels, follows tracked links, unsubscribes with one-click POSTs and
// posts purchases to /api/v1/events over HTTP. All of it is bounded in count
// and time and talks only to the loopback server it is given.
package demo
