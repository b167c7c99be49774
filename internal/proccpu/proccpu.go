// Package proccpu reads how much CPU a process on this machine has run,
// for the benchmarks that charge a statement's cost to the PostgreSQL
// backend that ran it (its pid from pgconn.PgConn.PID).
package proccpu

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Sched is the CPU time thread pid has run, from /proc/PID/schedstat:
// nanoseconds, unlike /proc/PID/stat's clock ticks, so a few statements'
// worth is measurable. A PostgreSQL backend is one thread, so this is all
// of its CPU; of a multi-threaded process it is the first thread's only.
// The thread must run on this machine.
func Sched(pid int) (time.Duration, error) {
	raw, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/schedstat")
	if err != nil {
		return 0, fmt.Errorf("proccpu: the process must run on this machine: %w", err)
	}
	f := strings.Fields(string(raw))
	if len(f) == 0 {
		return 0, fmt.Errorf("proccpu: empty /proc/%d/schedstat", pid)
	}
	ns, err := strconv.ParseInt(f[0], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("proccpu: /proc/%d/schedstat: %w", pid, err)
	}
	return time.Duration(ns), nil
}

// MustSched is Sched in nanoseconds for a benchmark or test, which fails
// when the process cannot be read (a cluster on another machine).
func MustSched(tb testing.TB, pid uint32) int64 {
	tb.Helper()
	d, err := Sched(int(pid))
	if err != nil {
		tb.Fatal(err)
	}
	return d.Nanoseconds()
}
