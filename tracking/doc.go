// Package tracking owns what recipients do: the public endpoints (open
// pixel, click redirect, unsubscribe, the events API), signed tracking
// tokens, the group-commit event writer, machine-traffic classification, and
// the rollups and metrics reports read. It never changes campaign
// definitions.
package tracking
