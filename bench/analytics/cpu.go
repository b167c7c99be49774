package main

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// clockTicks is USER_HZ, the unit of /proc/*/stat CPU times on Linux.
const clockTicks = 100

// cpuMeter reads the CPU time this process and, when the database server
// runs on this machine, the PostgreSQL cluster have used, so a run on a
// loaded machine still says what a recompute costs.
type cpuMeter struct{ postmaster int }

func newCPUMeter(ctx context.Context, pool *pgxpool.Pool) cpuMeter {
	var dir string
	if err := pool.QueryRow(ctx, `SHOW data_directory`).Scan(&dir); err != nil {
		return cpuMeter{}
	}
	b, err := os.ReadFile(filepath.Join(dir, "postmaster.pid"))
	if err != nil {
		return cpuMeter{}
	}
	pid, _ := strconv.Atoi(strings.SplitN(string(b), "\n", 2)[0])
	return cpuMeter{postmaster: pid}
}

// self is this process's user + system CPU time.
func (cpuMeter) self() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// server is the cluster's CPU time: the postmaster's own and its exited
// children's (utime, stime, cutime, cstime) plus its live children's. 0
// when the server is not local.
func (m cpuMeter) server() time.Duration {
	if m.postmaster == 0 {
		return 0
	}
	total := 0
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		s := string(b)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:]) // fields from 3 (state) on
		if len(f) < 15 {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		n := func(i int) int { v, _ := strconv.Atoi(f[i-3]); return v } // field i of stat(5)
		switch {
		case pid == m.postmaster:
			total += n(14) + n(15) + n(16) + n(17)
		case ppid == m.postmaster:
			total += n(14) + n(15)
		}
	}
	return time.Duration(total) * time.Second / clockTicks
}
