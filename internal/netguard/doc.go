// Package netguard keeps outbound requests that users configure (webhooks)
// from being turned inward: it decides which IP addresses such a request
// may reach, checks URLs when they are saved, and gives dialers a Control
// function that applies the same decision to the address actually dialled,
// so DNS rebinding and redirects cannot get round it.
//
// Loopback, private, link-local, multicast, unspecified, shared (CGNAT) and
// other reserved addresses are refused, also when written as IPv4-mapped or
// otherwise embedded IPv6 addresses, unless an operator's allow-list
// (Policy.Allow) contains them.
package netguard
