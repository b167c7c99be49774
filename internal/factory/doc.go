// Package factory builds test fixtures through the packages that own their
// tables: a contact through campaigns/contacts, a segment through
// campaigns/segments, a template through templates, a transaction through
// contacts.InsertTransactions. Each function takes the test and a DBTX (a
// pool or a pgx.Tx), has defaults a test need not spell out, takes
// functional options for what the test is about, and fails the test on an
// error.
//
// It writes no table itself, so the table-owner check
// (migrations/owners_test.go) holds for it too. It imports the owners, so
// an owner's own internal tests cannot use it (an import cycle): it serves
// external test packages and other packages' tests.
package factory
