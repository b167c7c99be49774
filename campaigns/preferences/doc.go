// Package preferences is the preference centre's domain: what the
// recipient of one message sees on their page (their name, the public
// topics and their state on each, whether email reaches them) and the
// changes they make there. It owns no table: names go through contacts,
// subscriptions and consent records through topics, the email channel's
// unsubscribe through contacts.Suppress, all in one transaction per save.
//
// The page itself (web) and its signed link (tracking.Signer's
// PreferencesURL) are elsewhere; a delivery id is all this package is
// given, so it trusts its caller to have verified the token.
package preferences
