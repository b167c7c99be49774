package benchdb

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/peykar/peykar/internal/proccpu"
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
	pm, err := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(pidFile), "\n", 2)[0]))
	if err != nil {
		return c
	}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		st, err := proccpu.Stat(pid)
		if err != nil || (pid != pm && st.PPID != pm) {
			continue
		}
		c.DB += st.CPU()
		c.DBSys += st.System
		c.DBFaults += st.MinorFaults
	}
	return c
}

// BackendCPU is the user and system CPU one PostgreSQL backend (its
// pg_backend_pid) has used so far; the cluster must run on this machine.
func BackendCPU(pid int) (time.Duration, error) {
	st, err := proccpu.Stat(pid)
	if err != nil {
		return 0, fmt.Errorf("backend CPU: %w", err)
	}
	return st.CPU(), nil
}
