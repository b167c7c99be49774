// Package baseservice is what every long-lived service of the engine
// embeds (River's pattern): one logger and one clock, so that time, where
// it decides behaviour (delays, windows, retries, idle checks, the time a
// send is recorded at), comes from a clock a test can set instead of
// time.Now, and a test can prove that something did not happen by not
// moving the clock rather than by sleeping.
package baseservice

import (
	"log/slog"
	"time"
)

// Base is a service's logger and clock. The zero value logs nowhere and
// reads the real time.
type Base struct {
	// Logger receives the service's logs; nil discards them.
	Logger *slog.Logger
	// Clock is the service's time source; nil is time.Now.
	Clock func() time.Time
}

// New returns a Base with logger and clock (either may be nil).
func New(logger *slog.Logger, clock func() time.Time) Base {
	return Base{Logger: logger, Clock: clock}
}

// Now is the service's current time.
func (b *Base) Now() time.Time {
	if b.Clock != nil {
		return b.Clock()
	}
	return time.Now()
}

// Since is the time elapsed on the service's clock since t.
func (b *Base) Since(t time.Time) time.Duration { return b.Now().Sub(t) }

// Log is the service's logger, never nil.
func (b *Base) Log() *slog.Logger {
	if b.Logger != nil {
		return b.Logger
	}
	return slog.New(slog.DiscardHandler)
}
