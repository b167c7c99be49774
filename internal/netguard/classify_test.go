package netguard

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestCheckTable holds the one decision over IPv4, IPv6, IPv4-mapped and
// embedded forms, without and with an allow-list.
func TestCheckTable(t *testing.T) {
	t.Parallel()
	allow, err := ParsePolicy("127.0.0.0/8, 10.1.0.0/16, fd00::/8")
	require.NoError(t, err)
	for _, tc := range []struct {
		addr    string
		class   Class
		allowed bool // with allow
	}{
		{"93.184.216.34", Public, true},
		{"8.8.8.8", Public, true},
		{"2606:4700::1111", Public, true},
		{"::ffff:93.184.216.34", Public, true},
		{"64:ff9b::5db8:d822", Public, true}, // NAT64 of 93.184.216.34
		{"2002:5db8:d822::1", Public, true},  // 6to4 of 93.184.216.34
		{"172.15.255.255", Public, true},
		{"172.32.0.0", Public, true},
		{"100.63.255.255", Public, true},
		{"100.128.0.0", Public, true},

		{"127.0.0.1", Loopback, true},
		{"127.255.255.254", Loopback, true},
		{"::1", Loopback, false},
		{"::ffff:127.0.0.1", Loopback, true},
		{"::ffff:7f00:1", Loopback, true},
		{"64:ff9b::7f00:1", Loopback, false}, // NAT64 of 127.0.0.1: not the allowed 127/8
		{"2002:7f00:1::", Loopback, false},   // 6to4 of 127.0.0.1
		{"0.0.0.0", Unspecified, false},
		{"0.1.2.3", Unspecified, false},
		{"::", Unspecified, false},
		{"::ffff:0.0.0.0", Unspecified, false},
		{"10.0.0.1", Private, false},
		{"10.1.2.3", Private, true},
		{"::ffff:10.1.2.3", Private, true},
		{"::ffff:10.2.0.1", Private, false},
		{"172.16.0.1", Private, false},
		{"172.31.255.255", Private, false},
		{"192.168.1.1", Private, false},
		{"fc00::1", Private, false},
		{"fd12:3456::1", Private, true},
		{"fec0::1", Private, false},
		{"169.254.169.254", LinkLocal, false},
		{"::ffff:169.254.169.254", LinkLocal, false},
		{"fe80::1", LinkLocal, false},
		{"fe80::1%eth0", LinkLocal, false},
		{"100.64.0.1", Shared, false},
		{"100.127.255.255", Shared, false},
		{"224.0.0.1", Multicast, false},
		{"239.255.255.250", Multicast, false},
		{"ff02::1", Multicast, false},
		{"255.255.255.255", Reserved, false},
		{"240.0.0.1", Reserved, false},
		{"192.0.2.1", Reserved, false},
		{"198.18.0.1", Reserved, false},
		{"::7f00:1", Reserved, false}, // IPv4-compatible
		{"2001:db8::1", Reserved, false},
		{"2001::1", Reserved, false}, // Teredo
		{"64:ff9b:1::1", Reserved, false},
	} {
		a := netip.MustParseAddr(tc.addr)
		require.Equal(t, tc.class, Classify(a), tc.addr)
		err := Policy{}.Check(a)
		if tc.class == Public {
			require.NoError(t, err, tc.addr)
		} else {
			require.ErrorIs(t, err, ErrNotAllowed, tc.addr)
			require.ErrorContains(t, err, string(tc.class), tc.addr)
		}
		require.Equal(t, tc.allowed, allow.Check(a) == nil, "%s with %v", tc.addr, allow.Allow)
	}
	require.Equal(t, Reserved, Classify(netip.Addr{}), "the zero address is refused")
}

func TestParsePolicy(t *testing.T) {
	t.Parallel()
	p, err := ParsePolicy(" 10.0.0.0/8 ,, ::1, 192.168.1.7, ::ffff:172.16.0.0/108")
	require.NoError(t, err)
	require.Equal(t, []netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128"),
		netip.MustParsePrefix("192.168.1.7/32"), netip.MustParsePrefix("172.16.0.0/12"),
	}, p.Allow)
	require.NoError(t, p.Check(netip.MustParseAddr("192.168.1.7")))
	require.Error(t, p.Check(netip.MustParseAddr("192.168.1.8")))
	require.NoError(t, p.Check(netip.MustParseAddr("172.20.0.1")), "a mapped CIDR allows IPv4 addresses")
	p, err = ParsePolicy("")
	require.NoError(t, err)
	require.Empty(t, p.Allow)
	for _, bad := range []string{"10.0.0.0/33", "intranet.example", "10.0.0.0/8,nonsense", "10.0.0.1/8/8"} {
		_, err := ParsePolicy(bad)
		require.Error(t, err, bad)
	}
}
