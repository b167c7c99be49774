// Package timing answers "when may this message go?" for one recipient:
// the recipient's time zone (the contact's timezone attribute, else one
// inferred from the country attribute or the phone number's country
// calling code, else the campaign's default, else UTC), the next instant
// at a local time of day (a campaign's send_time), and the end of quiet
// hours that hold a message back. It is a leaf: it imports nothing of
// Peykar's, so contacts (validation on write), campaigns (settings
// validation), engine (sending) and web (the contact page) share one
// definition.
package timing
