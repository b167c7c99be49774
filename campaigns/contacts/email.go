package contacts

import (
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/peykar/peykar/internal/errs"
)

// Address limits (RFC 5321 §4.5.3.1).
const (
	maxEmailLen  = 254
	maxLocalLen  = 64
	maxDomainLen = 253
	maxLabelLen  = 63
)

// badTLDs are top-level names that never deliver mail.
var badTLDs = map[string]bool{"invalid": true, "localhost": true, "local": true}

// NormalizeEmail validates an address and returns its normal form: trimmed,
// with the domain lower-cased (the local part keeps its case; uniqueness is
// on the whole address lower-cased). It accepts only a bare dot-atom
// address: no display name, no quoted local part, no IP literal, a domain
// with at least one dot and a non-numeric top-level label, none of the
// reserved names that never deliver (.invalid, .localhost, .local), within
// the RFC 5321 length limits. An invalid address gives an *errs.Error with
// Code errs.Invalid and Field "email".
func NormalizeEmail(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", errs.Field("email", "is required")
	}
	if !utf8.ValidString(s) {
		return "", errs.Field("email", "is not valid UTF-8")
	}
	if len(s) > maxEmailLen {
		return "", errs.Field("email", "is longer than %d bytes", maxEmailLen)
	}
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at == len(s)-1 {
		return "", errs.Field("email", "is not a valid address: %q", s)
	}
	local, domain := s[:at], strings.ToLower(s[at+1:])
	if err := checkLocal(local); err != nil {
		return "", err
	}
	if err := checkDomain(domain); err != nil {
		return "", err
	}
	out := local + "@" + domain
	// net/mail as a second opinion: it must parse to exactly this address.
	a, err := mail.ParseAddress(out)
	if err != nil || a.Name != "" || a.Address != out {
		return "", errs.Field("email", "is not a valid address: %q", s)
	}
	return out, nil
}

func checkLocal(local string) error {
	if len(local) > maxLocalLen {
		return errs.Field("email", "has a local part longer than %d bytes", maxLocalLen)
	}
	if local[0] == '.' || local[len(local)-1] == '.' || strings.Contains(local, "..") {
		return errs.Field("email", "has a misplaced dot before the @")
	}
	for _, r := range local {
		if !isAtext(r) && r != '.' {
			return errs.Field("email", "has a character %q not allowed before the @", r)
		}
	}
	return nil
}

// isAtext reports whether r may appear in a dot-atom (RFC 5322 atext, plus
// non-ASCII letters and digits as RFC 6531 allows).
func isAtext(r rune) bool {
	switch {
	case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		return true
	case strings.ContainsRune("!#$%&'*+/=?^_`{|}~-", r):
		return true
	case r > unicode.MaxASCII:
		return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r)
	}
	return false
}

func checkDomain(domain string) error {
	if len(domain) > maxDomainLen {
		return errs.Field("email", "has a domain longer than %d bytes", maxDomainLen)
	}
	if strings.HasPrefix(domain, "[") {
		return errs.Field("email", "has an IP literal as its domain")
	}
	labels := strings.Split(domain, ".")
	if len(labels) < 2 {
		return errs.Field("email", "has a domain without a dot: %q", domain)
	}
	for _, l := range labels {
		if l == "" || len(l) > maxLabelLen {
			return errs.Field("email", "has an invalid domain: %q", domain)
		}
		if l[0] == '-' || l[len(l)-1] == '-' {
			return errs.Field("email", "has a domain label starting or ending with a hyphen: %q", domain)
		}
		for _, r := range l {
			ok := r == '-' || (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') ||
				(r > unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r)))
			if !ok {
				return errs.Field("email", "has a character %q not allowed in a domain", r)
			}
		}
	}
	tld := labels[len(labels)-1]
	if strings.Trim(tld, "0123456789") == "" {
		return errs.Field("email", "has a numeric top-level domain (an IP address?): %q", domain)
	}
	if badTLDs[tld] {
		return errs.Field("email", "has a reserved domain that never receives mail: %q", domain)
	}
	return nil
}
