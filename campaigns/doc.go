// Package campaigns owns what marketers define: contacts and their profiles,
// segments (expr predicates over a contact, compiled and type-checked on
// save), campaigns with their steps, follow-up rules and goals; their types,
// validation, stores and SQL, and the REST handlers and admin pages for them.
// It never sends mail or runs workers: that is package engine.
package campaigns
