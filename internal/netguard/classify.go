package netguard

import "net/netip"

// Class says why an address is not a public one. Public is the empty class.
type Class string

// The address classes. Every class but Public is refused unless allowed.
const (
	Public      Class = ""
	Loopback    Class = "loopback"
	Private     Class = "private"
	LinkLocal   Class = "link-local"
	Multicast   Class = "multicast"
	Unspecified Class = "unspecified"
	Shared      Class = "shared (carrier-grade NAT)"
	Reserved    Class = "reserved"
)

// special lists the IANA special-purpose ranges a webhook has no business
// reaching. Order matters where ranges nest (::/128 and ::1/128 before ::/96).
var special = []struct {
	prefix netip.Prefix
	class  Class
}{
	{netip.MustParsePrefix("0.0.0.0/8"), Unspecified}, // "this network": 0.0.0.0 reaches the local host
	{netip.MustParsePrefix("10.0.0.0/8"), Private},
	{netip.MustParsePrefix("100.64.0.0/10"), Shared},
	{netip.MustParsePrefix("127.0.0.0/8"), Loopback},
	{netip.MustParsePrefix("169.254.0.0/16"), LinkLocal}, // cloud metadata lives here
	{netip.MustParsePrefix("172.16.0.0/12"), Private},
	{netip.MustParsePrefix("192.0.0.0/24"), Reserved},
	{netip.MustParsePrefix("192.0.2.0/24"), Reserved},
	{netip.MustParsePrefix("192.88.99.0/24"), Reserved},
	{netip.MustParsePrefix("192.168.0.0/16"), Private},
	{netip.MustParsePrefix("198.18.0.0/15"), Reserved},
	{netip.MustParsePrefix("198.51.100.0/24"), Reserved},
	{netip.MustParsePrefix("203.0.113.0/24"), Reserved},
	{netip.MustParsePrefix("224.0.0.0/4"), Multicast},
	{netip.MustParsePrefix("240.0.0.0/4"), Reserved}, // with 255.255.255.255
	{netip.MustParsePrefix("::/128"), Unspecified},
	{netip.MustParsePrefix("::1/128"), Loopback},
	{netip.MustParsePrefix("::/96"), Reserved},           // IPv4-compatible (deprecated)
	{netip.MustParsePrefix("::ffff:0:0:0/96"), Reserved}, // IPv4-translated
	{netip.MustParsePrefix("64:ff9b:1::/48"), Reserved},  // local-use NAT64
	{netip.MustParsePrefix("100::/64"), Reserved},        // discard
	{netip.MustParsePrefix("2001::/32"), Reserved},       // Teredo
	{netip.MustParsePrefix("2001:db8::/32"), Reserved},   // documentation
	{netip.MustParsePrefix("fc00::/7"), Private},         // unique local
	{netip.MustParsePrefix("fe80::/10"), LinkLocal},
	{netip.MustParsePrefix("fec0::/10"), Private}, // site-local (deprecated)
	{netip.MustParsePrefix("ff00::/8"), Multicast},
}

var (
	nat64  = netip.MustParsePrefix("64:ff9b::/96")
	sixTo4 = netip.MustParsePrefix("2002::/16")
)

// Classify returns the class of a: Public, or why it is not public. An
// IPv4-mapped address (::ffff:127.0.0.1) is classified as its IPv4 address;
// NAT64 (64:ff9b::/96) and 6to4 (2002::/16) addresses take the class of
// the IPv4 address they embed when that one is not public. The zone of an
// IPv6 address is ignored; an invalid address is Reserved.
func Classify(a netip.Addr) Class {
	if !a.IsValid() {
		return Reserved
	}
	a = a.WithZone("").Unmap()
	if v4, ok := embeddedIPv4(a); ok {
		if c := Classify(v4); c != Public {
			return c
		}
	}
	for _, s := range special {
		if s.prefix.Contains(a) {
			return s.class
		}
	}
	return Public
}

// embeddedIPv4 is the IPv4 address inside a NAT64 or 6to4 address.
func embeddedIPv4(a netip.Addr) (netip.Addr, bool) {
	b := a.As16()
	switch {
	case !a.Is6():
		return netip.Addr{}, false
	case nat64.Contains(a):
		return netip.AddrFrom4([4]byte(b[12:16])), true
	case sixTo4.Contains(a):
		return netip.AddrFrom4([4]byte(b[2:6])), true
	}
	return netip.Addr{}, false
}
