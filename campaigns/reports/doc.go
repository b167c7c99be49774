// Package reports serves what is built on campaign reports: the live
// server-sent-event stream, the report and comparison pages (html/template
// with an embedded, vendored chart library), CSV exports streamed row by
// row, and the standard reports over a date range.
//
// It does not import package campaigns (which mounts it): the campaign
// report arrives through Config.Report.
package reports
