package netguard

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseURL(t *testing.T) {
	t.Parallel()
	for _, ok := range []string{"https://hooks.example/peykar", "http://hooks.example:8080/x?y=1", "https://[2606:4700::1111]/"} {
		_, err := ParseURL(ok)
		require.NoError(t, err, ok)
	}
	for raw, why := range map[string]string{
		"ftp://hooks.example/":               "http(s) URL",
		"hooks.example/peykar":               "http(s) URL",
		"http:hooks.example":                 "http(s) URL",
		"https://":                           "http(s) URL",
		"https://:8080/":                     "http(s) URL",
		"http://127.0.0.%31/":                "http(s) URL",
		"https://user:pass@hooks.example/":   "user:pass@",
		"https://user@hooks.example/":        "user:pass@",
		"https://@hooks.example/":            "user:pass@",
		"https://hooks.example/" + long(3e3): "longer than 2048",
	} {
		_, err := ParseURL(raw)
		require.ErrorContains(t, err, why, raw)
	}
}

func long(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = 'a'
	}
	return string(b)
}

// TestCheckHost covers every way of writing an internal address in a URL
// that the probe tried, and the names that mean loopback.
func TestCheckHost(t *testing.T) {
	t.Parallel()
	for host, why := range map[string]string{
		"127.0.0.1":           `127.0.0.1 is a loopback address`,
		"localhost":           `"localhost" names a loopback address`,
		"LOCALHOST.":          `"LOCALHOST." names a loopback address`,
		"api.localhost":       `names a loopback address`,
		"ip6-localhost":       `names a loopback address`,
		"::1":                 `::1 is a loopback address`,
		"::ffff:127.0.0.1":    `loopback`,
		"0.0.0.0":             `0.0.0.0 is an unspecified address`,
		"::":                  `unspecified`,
		"2130706433":          `"2130706433" is 127.0.0.1, a loopback address`,
		"0x7f.1":              `"0x7f.1" is 127.0.0.1, a loopback`,
		"0x7F000001":          `is 127.0.0.1`,
		"127.1":               `"127.1" is 127.0.0.1`,
		"0177.0.0.1":          `"0177.0.0.1" is 127.0.0.1`,
		"127.0.0.1.":          `loopback`,
		"127。0。0。1":           `loopback`,
		"0":                   `unspecified`,
		"10.0.0.5":            `10.0.0.5 is a private address`,
		"192.168.0.1":         `private`,
		"172.16.3.4":          `private`,
		"169.254.169.254":     `169.254.169.254 is a link-local address`,
		"fe80::1%eth0":        `link-local`,
		"100.64.1.1":          `shared (carrier-grade NAT)`,
		"224.0.0.251":         `multicast`,
		"3627734562":          `unusual way to write the address 216.58.214.34`,
		"0x5d.0xb8.0xd8.0x22": `unusual way`,
	} {
		require.ErrorContains(t, Policy{}.CheckHost(host), why, host)
	}
	for _, host := range []string{"hooks.example", "93.184.216.34", "2606:4700::1111", "intranet", "0x7f.example", "1.2.3.4.5", "256.1.1.1.1", "08.1.1.1"} {
		require.NoError(t, Policy{}.CheckHost(host), host)
	}
	allow, err := ParsePolicy("127.0.0.0/8,10.0.0.0/8")
	require.NoError(t, err)
	for _, host := range []string{"127.0.0.1", "localhost", "10.0.0.5"} {
		require.NoError(t, allow.CheckHost(host), host)
	}
	require.ErrorContains(t, allow.CheckHost("2130706433"), "unusual way", "allowed, but not in a disguise")
	require.ErrorContains(t, allow.CheckHost("169.254.169.254"), "link-local")
}

func TestHostAddrLegacyForms(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"2130706433": "127.0.0.1", "127.1": "127.0.0.1", "127.0.1": "127.0.0.1", "0x7f.1": "127.0.0.1",
		"0177.1": "127.0.0.1", "0x7f.0x0.0.01": "127.0.0.1", "10.65535": "10.0.255.255", "0x": "0.0.0.0",
		"4294967295": "255.255.255.255",
	} {
		a, canonical, ok := HostAddr(in)
		require.True(t, ok, in)
		require.False(t, canonical, in)
		require.Equal(t, netip.MustParseAddr(want), a, in)
	}
	for _, in := range []string{"4294967296", "256.1", "1.256.1", "1.2.3.256", "1.2.3.4.5", "08", "0x1g", "", "1..2", "-1", "+1", "1_0"} {
		_, _, ok := HostAddr(in)
		require.False(t, ok, in)
	}
}
