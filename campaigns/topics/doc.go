// Package topics owns subscriptions: the topics (subscription lists) a
// contact subscribes to, each contact's state per topic, and the consent
// records that say when, how and where every change happened.
//
// # API for other packages
//
// Every function takes a DBTX so it runs in the caller's transaction:
//
//   - Set changes a contact's status for one topic and appends a consent
//     record in the same statement; setting the status it already has
//     changes nothing and records nothing.
//   - Record appends a channel-level consent record (an email or sms
//     suppression, a form confirmation) that is not a topic's status.
//   - List, Get, ForContact and History read topics, a contact's
//     subscriptions and its consent history.
//   - Erase strips a contact's consent records of the personal parts (IP
//     address, user agent, detail) and drops its subscriptions.
//
// A Source says who acted: its Kind (form, import, api, preferences, admin,
// link), and where the person acted (IP, user agent) or which admin user.
//
// # Tables
//
// topics is the one writer of topics, contact_topics and consent_records;
// its SQL is in queries.sql. It imports nothing of Peykar's domain, so
// contacts (PATCH, import, bulk, export, erasure), segments (the topics
// function of the segment language) and the engine (targeting) can all
// import it.
package topics
