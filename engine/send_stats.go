package engine

import (
	"sync/atomic"
	"time"
)

// SendStats are cumulative counts of a process's send path, for /metrics:
// where a send waits between its claim and its outcome's commit.
type SendStats struct {
	// ReserveWaits is how many slices waited for room under the crash
	// window's bound (maxUncommitted) before going to SMTP, and
	// ReserveWait their total wait.
	ReserveWaits int64
	ReserveWait  time.Duration
	// Flushes is how many group commits of outcomes ran, FlushTime their
	// total time (transaction and commit) and Flushed the outcomes they
	// recorded.
	Flushes   int64
	FlushTime time.Duration
	Flushed   int64
}

// sendStats collects SendStats.
type sendStats struct {
	reserveWaits, reserveWait      atomic.Int64
	flushes, flushTime, flushedOut atomic.Int64
}

// waited records a reservation that waited since began.
func (s *sendStats) waited(began time.Time) {
	s.reserveWaits.Add(1)
	s.reserveWait.Add(int64(time.Since(began)))
}

// flushed records a group commit of n outcomes that began at began.
func (s *sendStats) flushed(n int, began time.Time) {
	s.flushes.Add(1)
	s.flushTime.Add(int64(time.Since(began)))
	s.flushedOut.Add(int64(n))
}

// SendStats returns the send path's counts since the process started.
func (e *Engine) SendStats() SendStats {
	s := &e.send.commits.stats
	return SendStats{
		ReserveWaits: s.reserveWaits.Load(), ReserveWait: time.Duration(s.reserveWait.Load()),
		Flushes: s.flushes.Load(), FlushTime: time.Duration(s.flushTime.Load()), Flushed: s.flushedOut.Load(),
	}
}
