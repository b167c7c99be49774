package proccpu

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// clockTick is /proc/PID/stat's unit of CPU time: USER_HZ, 100 on Linux.
const clockTick = 10 * time.Millisecond

// ProcStat is what the benchmarks read of /proc/PID/stat: a process's
// parent, its minor page faults, and its CPU time (in clock ticks, 10 ms
// each), its own and that of its children it has waited for.
type ProcStat struct {
	PPID                 int
	MinorFaults          int64
	User, System         time.Duration
	ChildUser, ChildSyst time.Duration
}

// CPU is the process's own user and system time.
func (s ProcStat) CPU() time.Duration { return s.User + s.System }

// Stat reads /proc/PID/stat; the process must run on this machine.
func Stat(pid int) (ProcStat, error) {
	raw, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return ProcStat{}, fmt.Errorf("proccpu: the process must run on this machine: %w", err)
	}
	// The fields after the ")" that closes the command name (which may
	// hold spaces and parentheses): state(0) ppid(1) … minflt(7) …
	// utime(11) stime(12) cutime(13) cstime(14).
	s := string(raw)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 15 {
		return ProcStat{}, fmt.Errorf("proccpu: short /proc/%d/stat", pid)
	}
	n := func(i int) int64 {
		v, _ := strconv.ParseInt(f[i], 10, 64)
		return v
	}
	return ProcStat{
		PPID:        int(n(1)),
		MinorFaults: n(7),
		User:        time.Duration(n(11)) * clockTick, System: time.Duration(n(12)) * clockTick,
		ChildUser: time.Duration(n(13)) * clockTick, ChildSyst: time.Duration(n(14)) * clockTick,
	}, nil
}
