// Package runtimetune sets Go runtime defaults for Peykar's processes:
// their heaps are small (tens of MB) and their CPU goes to network I/O, so
// collecting garbage less often buys throughput for little memory.
package runtimetune

import (
	"os"
	"runtime/debug"
)

// DefaultGCPercent is used unless GOGC is set.
const DefaultGCPercent = 300

// DefaultMemoryLimit caps the heap target unless GOMEMLIMIT is set, so the
// higher GC percentage can never let the heap grow without bound.
const DefaultMemoryLimit = 1 << 30

// Apply sets the defaults that the environment does not override.
func Apply() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(DefaultGCPercent)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(DefaultMemoryLimit)
	}
}
