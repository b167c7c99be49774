package netguard

import (
	"testing"
)

// FuzzCheckHost: whatever host is typed, a literal that denotes an address
// outside the public internet is refused, and nothing panics.
func FuzzCheckHost(f *testing.F) {
	for _, s := range []string{"127.0.0.1", "2130706433", "0x7f.1", "127.1", "::ffff:127.0.0.1", "fe80::1%eth0",
		"localhost", "hooks.example", "0", "0x", "1.2.3.4.5", "4294967296", "127。0。0。1", "[::1]", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, host string) {
		err := Policy{}.CheckHost(host)
		if a, _, ok := HostAddr(host); ok && Classify(a) != Public && err == nil {
			t.Fatalf("%q denotes %s (%s) and was accepted", host, a, Classify(a))
		}
		_, _ = ParseURL("http://" + host + "/")
	})
}
