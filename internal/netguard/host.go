package netguard

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"strings"

	"golang.org/x/net/idna"
)

// MaxURLLength bounds a webhook URL.
const MaxURLLength = 2048

// ParseURL checks what a URL must be before anything is sent to it: an
// absolute http or https URL with a host, at most MaxURLLength long, and
// without user info (user:pass@), which would travel as credentials to
// whoever the host turns out to be. The error says what is wrong.
func ParseURL(raw string) (*url.URL, error) {
	if len(raw) > MaxURLLength {
		return nil, fmt.Errorf("is longer than %d characters", MaxURLLength)
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Hostname() == "" {
		return nil, errors.New("must be an http(s) URL such as https://hooks.example/peykar")
	}
	if u.User != nil {
		return nil, errors.New("must not carry a user name or password (user:pass@); requests are signed with the webhook secret instead")
	}
	return u, nil
}

// CheckHost checks a URL's host (url.URL.Hostname) when it is saved. An
// address literal, in any form a resolver or browser takes (127.0.0.1,
// [::1], [::ffff:127.0.0.1], 2130706433, 0x7f.1, 127.1, 0177.0.0.1,
// full-width dots), is checked with Check; a form other than the canonical
// one is refused even when public, so that what is stored is what is
// reached. The names localhost and *.localhost are loopback. Any other name
// passes: it is not resolved here (DNS answers change), Control checks the
// address it resolves to on every connection.
func (p Policy) CheckHost(host string) error {
	name := strings.TrimSuffix(strings.ToLower(host), ".")
	if ascii, err := idna.Lookup.ToASCII(name); err == nil {
		name = ascii
	}
	if isLoopbackName(name) {
		if p.allows(netip.IPv6Loopback()) || p.allows(netip.AddrFrom4([4]byte{127, 0, 0, 1})) {
			return nil
		}
		return &RefusedError{Host: host, Class: Loopback}
	}
	a, canonical, ok := HostAddr(name)
	if !ok {
		return nil
	}
	if err := p.Check(a); err != nil {
		var re *RefusedError
		if errors.As(err, &re) {
			re.Host = host
		}
		return err
	}
	if !canonical {
		return fmt.Errorf("%q is an unusual way to write the address %s: write %s", host, a, a)
	}
	return nil
}

func isLoopbackName(name string) bool {
	switch name {
	case "localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback":
		return true
	}
	return strings.HasSuffix(name, ".localhost")
}

// HostAddr returns the IP address host denotes when it is an address
// literal: a canonical one (netip.ParseAddr, zone allowed) or a legacy IPv4
// form that inet_aton and browsers accept (1 to 4 parts, each decimal, 0x
// hex or 0-prefixed octal, the last filling the remaining bytes:
// 2130706433, 127.1, 0x7f.0.0.1). canonical is false for the legacy forms.
func HostAddr(host string) (a netip.Addr, canonical, ok bool) {
	if a, err := netip.ParseAddr(host); err == nil {
		return a, true, true
	}
	a, ok = parseLegacyIPv4(host)
	return a, false, ok
}

func parseLegacyIPv4(s string) (netip.Addr, bool) {
	parts := strings.Split(s, ".")
	if len(parts) > 4 {
		return netip.Addr{}, false
	}
	var n uint64
	for i, part := range parts {
		v, ok := parseLegacyPart(part)
		if !ok {
			return netip.Addr{}, false
		}
		if i < len(parts)-1 {
			if v > 255 {
				return netip.Addr{}, false
			}
			n = n<<8 | v
			continue
		}
		rest := uint(8 * (4 - i)) // bits the last part fills
		if v >= 1<<rest {
			return netip.Addr{}, false
		}
		n = n<<rest | v
	}
	return netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}), true
}

func parseLegacyPart(p string) (uint64, bool) {
	base := 10
	switch {
	case p == "":
		return 0, false
	case len(p) > 1 && (p[:2] == "0x" || p[:2] == "0X"):
		base, p = 16, p[2:]
		if p == "" {
			return 0, true // "0x" is 0
		}
	case len(p) > 1 && p[0] == '0':
		base, p = 8, p[1:]
	}
	v, err := strconv.ParseUint(p, base, 32)
	return v, err == nil
}
