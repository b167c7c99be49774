package engine

import (
	netmail "net/mail"
	"strings"
	"unicode/utf8"

	"github.com/wneessen/go-mail"
)

// addTo adds the recipient's To header as go-mail's AddToFormat does: that
// formats `"name" <email>` and parses it back with net/mail, about twenty
// allocations per message. For a name and an address whose parse is known
// to give back exactly the name and the address (plainMailbox), the parsed
// address is built directly; anything else goes through AddToFormat, so
// the header, and any error, stay go-mail's.
func addTo(msg *mail.Msg, name, email string) error {
	if plainMailbox(name, email) {
		msg.AddToMailAddress(&netmail.Address{Name: name, Address: email})
		return nil
	}
	return msg.AddToFormat(name, email)
}

// plainMailbox reports whether net/mail parses `"name" <email>` into
// exactly {Name: name, Address: email}: the name is valid UTF-8 made of
// qtext and blanks (no quote or backslash, which the quoted string would
// escape or end at; no control character, which it refuses), and the
// address is local@domain where both are RFC 5322 dot-atoms (atext, with
// no leading, trailing or doubled dot, which the parser refuses; no blank,
// which it would skip; no domain literal or quoted local part, which it
// rewrites).
func plainMailbox(name, email string) bool {
	if !utf8.ValidString(name) {
		return false
	}
	for _, r := range name {
		if r == '"' || r == '\\' || (r != ' ' && r != '\t' && !vchar(r)) {
			return false
		}
	}
	local, domain, ok := strings.Cut(email, "@")
	return ok && dotAtom(local) && dotAtom(domain)
}

// dotAtom reports whether s is an RFC 5322 dot-atom as net/mail reads one
// (multibyte UTF-8 allowed, RFC 6532).
func dotAtom(s string) bool {
	if s == "" || !utf8.ValidString(s) || s[0] == '.' || s[len(s)-1] == '.' || strings.Contains(s, "..") {
		return false
	}
	for _, r := range s {
		switch r {
		case '(', ')', '<', '>', '[', ']', ':', ';', '@', '\\', ',', '"':
			return false
		}
		if r != '.' && !vchar(r) {
			return false
		}
	}
	return true
}

// vchar is RFC 5322's VCHAR extended by RFC 6532: a visible ASCII
// character or any multibyte one.
func vchar(r rune) bool {
	return ('!' <= r && r <= '~') || r >= utf8.RuneSelf
}
