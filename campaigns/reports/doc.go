// Package reports serves what is built on campaign reports: the live
// server-sent-event stream, the report and comparison pages (html/template
// with an embedded, vendored chart library), CSV exports streamed row by
// row, and the standard reports over a date range.
//
// It reads campaign reports as campaigns.Report values (Config.Report, wired
// by cmd), so a renamed report field breaks compilation, not a page. The
// standard report is a function (BuildStandard) as well as a handler.
//
// Tables: it writes none. It reads campaigns, contacts, deliveries, events
// and transactions (queries.sql, and the deliveries export's column list
// built in Go) and takes the campaign report from package campaigns.
package reports
