package netguard

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"syscall"
)

// ErrNotAllowed is in the chain of every refusal: an address, or a host
// that names one, outside what the policy lets a request reach.
var ErrNotAllowed = errors.New("address not allowed")

// RefusedError is a refused address or host.
type RefusedError struct {
	// Host is the host as written, when the refusal is about one (a URL
	// being saved); empty for a dialled address.
	Host string
	// Addr is the refused address; invalid for a host name (localhost).
	Addr  netip.Addr
	Class Class
}

func (e *RefusedError) Error() string {
	a, c := e.Addr.String(), article(e.Class)
	switch {
	case !e.Addr.IsValid():
		return fmt.Sprintf("%q names %s address", e.Host, c)
	case e.Host == "" || e.Host == a:
		return fmt.Sprintf("%s is %s address", a, c)
	default:
		return fmt.Sprintf("%q is %s, %s address", e.Host, a, c)
	}
}

// article is c with its indefinite article.
func article(c Class) string {
	if c != "" && strings.ContainsRune("aeiou", rune(c[0])) {
		return "an " + string(c)
	}
	return "a " + string(c)
}

// Unwrap makes errors.Is(err, ErrNotAllowed) hold.
func (e *RefusedError) Unwrap() error { return ErrNotAllowed }

// Policy decides which addresses an outbound request may reach: every
// public address, and the non-public ones inside Allow. Allow is matched
// against the address as dialled (IPv4-mapped addresses as IPv4): an
// allowed 127.0.0.0/8 does not allow a NAT64 or 6to4 address embedding it.
type Policy struct {
	// Allow are networks reachable although not public, e.g. 10.0.0.0/8
	// for an internal SMS gateway. Default none.
	Allow []netip.Prefix
}

// ParsePolicy reads a comma-separated list of CIDRs (10.0.0.0/8, fd00::/8);
// a bare address is a network of one. Blank parts are skipped.
func ParsePolicy(s string) (Policy, error) {
	var p Policy
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if !strings.Contains(part, "/") {
			a, err := netip.ParseAddr(part)
			if err != nil {
				return Policy{}, fmt.Errorf("%q is neither a CIDR (10.0.0.0/8) nor an IP address", part)
			}
			a = a.WithZone("").Unmap()
			p.Allow = append(p.Allow, netip.PrefixFrom(a, a.BitLen()))
			continue
		}
		n, err := netip.ParsePrefix(part)
		if err != nil {
			return Policy{}, fmt.Errorf("%q is not a CIDR such as 10.0.0.0/8 or fd00::/8", part)
		}
		p.Allow = append(p.Allow, unmapPrefix(n.Masked()))
	}
	return p, nil
}

// unmapPrefix turns ::ffff:a.b.c.d/n (n >= 96) into a.b.c.d/(n-96), so
// that it matches the unmapped addresses Check compares.
func unmapPrefix(n netip.Prefix) netip.Prefix {
	if n.Addr().Is4In6() && n.Bits() >= 96 {
		return netip.PrefixFrom(n.Addr().Unmap(), n.Bits()-96)
	}
	return n
}

// Check is the one decision: nil when a request may reach a, else a
// *RefusedError. a may be any form (IPv4, IPv6, IPv4-mapped, zoned).
func (p Policy) Check(a netip.Addr) error {
	c := Classify(a)
	if c == Public || p.allows(a) {
		return nil
	}
	return &RefusedError{Addr: a.WithZone(""), Class: c}
}

func (p Policy) allows(a netip.Addr) bool {
	a = a.WithZone("").Unmap()
	for _, n := range p.Allow {
		if n.Contains(a) {
			return true
		}
	}
	return false
}

// Control is a net.Dialer Control function: it refuses to connect to an
// address the policy does not allow. It sees the address after name
// resolution, once per address tried, so it holds for every name, redirect
// and DNS answer.
func (p Policy) Control(network, address string, _ syscall.RawConn) error {
	switch network {
	case "tcp", "tcp4", "tcp6":
	default:
		return fmt.Errorf("%w: network %s", ErrNotAllowed, network)
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: %q is not an IP address and port", ErrNotAllowed, address)
	}
	return p.Check(ap.Addr())
}
