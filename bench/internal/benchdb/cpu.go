package benchdb

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// CPUTime is CPU time used so far by this process and by a PostgreSQL
// cluster (its postmaster and the processes it forked), so a benchmark can
// say what its work costs even on a machine shared with other work.
type CPUTime struct {
	Self, DB time.Duration
	// DBSys is the part of DB spent in the kernel (system calls, page
	// faults), and DBFaults the cluster's minor page faults: a backend
	// maps the shared buffers it touches page by page, so a fresh
	// cluster's new connections fault while they warm up.
	DBSys    time.Duration
	DBFaults int64
}

// Sub is the CPU used between two samples.
func (c CPUTime) Sub(o CPUTime) CPUTime {
	return CPUTime{c.Self - o.Self, c.DB - o.DB, c.DBSys - o.DBSys, c.DBFaults - o.DBFaults}
}

const clockTick = 10 * time.Millisecond // USER_HZ is 100 on Linux

// SampleCPU reads the CPU time used so far (DB stays 0 without pgDataDir).
func SampleCPU(pgDataDir string) CPUTime {
	var c CPUTime
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		c.Self = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	if pgDataDir == "" {
		return c
	}
	pidFile, err := os.ReadFile(filepath.Join(pgDataDir, "postmaster.pid"))
	if err != nil {
		return c
	}
	pm := strings.TrimSpace(strings.SplitN(string(pidFile), "\n", 2)[0])
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		raw, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// Fields after the ")" that closes the command name: state ppid …
		// minflt(8) … utime(12) stime(13).
		s := string(raw)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(f) < 13 || (e.Name() != pm && f[1] != pm) {
			continue
		}
		flt, _ := strconv.ParseInt(f[7], 10, 64)
		u, _ := strconv.ParseInt(f[11], 10, 64)
		st, _ := strconv.ParseInt(f[12], 10, 64)
		c.DB += time.Duration(u+st) * clockTick
		c.DBSys += time.Duration(st) * clockTick
		c.DBFaults += flt
	}
	return c
}

// BackendCPU is the user and system CPU one PostgreSQL backend (its
// pg_backend_pid) has used so far; the cluster must run on this machine.
func BackendCPU(pid int) (time.Duration, error) {
	raw, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, fmt.Errorf("backend CPU (the cluster must run on this machine): %w", err)
	}
	s := string(raw)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("backend CPU: short /proc/%d/stat", pid)
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(u+st) * clockTick, nil
}
