package mailer

import "strings"

// Outcome classifies a message's send result.
type Outcome int

// Outcomes of a send.
const (
	Sent     Outcome = iota
	TempFail         // 4xx, timeouts, network errors: retry later
	PermFail         // 5xx: the address or message is refused for good
)

// Result is the outcome of sending one message.
type Result struct {
	Outcome Outcome
	// Code is the SMTP reply code that decided the outcome; 0 for a network
	// error, a timeout, or a message that was not tried.
	Code int
	// Enhanced is the reply's enhanced status code (RFC 3463, e.g. 5.1.1),
	// when the server gave one.
	Enhanced string
	// Detail is the server's reply (its acceptance on success) or the error.
	Detail string
}

// AddressBounce tells a refusal of the address itself (5.1.x: no such user,
// bad mailbox, bad domain) from other permanent failures (policy, content),
// so only the former suppresses the contact.
func (r Result) AddressBounce() bool {
	if r.Outcome != PermFail {
		return false
	}
	if r.Enhanced != "" {
		return strings.HasPrefix(r.Enhanced, "5.1.")
	}
	switch r.Code {
	case 550, 551, 553:
		return true
	}
	return false
}
