// Package reports serves what is built on campaign reports: the live
// server-sent-event stream, CSV exports streamed row by row, the standard
// reports over a date range, and the View of a report that the admin pages
// show (package web draws the live report and comparison pages; their old
// URLs here redirect there).
//
// It reads campaign reports as campaigns.Report values (Config.Report, wired
// by cmd), so a renamed report field breaks compilation, not a page. The
// standard report is a function (BuildStandard) as well as a handler.
//
// Tables: it writes none. It reads campaigns, contacts, deliveries, events
// and transactions (queries.sql, and the deliveries export's column list
// built in Go) and takes the campaign report from package campaigns.
package reports
