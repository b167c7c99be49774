package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// clockTick is the unit of /proc/*/stat times (USER_HZ, 100 on Linux).
const clockTick = 10 * time.Millisecond

// cpuMeter measures the CPU time this process and the PostgreSQL cluster
// use, so a run on a shared machine still says what the work costs.
type cpuMeter struct{ postmaster int }

func newCPUMeter(ctx context.Context, pool *pgxpool.Pool) cpuMeter {
	var pid int
	if err := pool.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&pid); err != nil {
		return cpuMeter{}
	}
	return cpuMeter{postmaster: ppid(pid)}
}

// sample is the CPU used so far by this process and by the cluster
// (postmaster, its live children, and the children it has reaped).
type sample struct{ self, pg time.Duration }

func (m cpuMeter) sample() sample {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	s := sample{self: time.Duration(ru.Utime.Nano() + ru.Stime.Nano())}
	if m.postmaster == 0 {
		return s
	}
	if f := statFields(m.postmaster); len(f) > 16 {
		s.pg += ticks(f[13]) + ticks(f[14]) + ticks(f[15]) + ticks(f[16])
	}
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		pid, _ := strconv.Atoi(filepath.Base(d))
		if f := statFields(pid); len(f) > 14 && f[3] == strconv.Itoa(m.postmaster) {
			s.pg += ticks(f[13]) + ticks(f[14])
		}
	}
	return s
}

func (s sample) sub(o sample) sample { return sample{self: s.self - o.self, pg: s.pg - o.pg} }

func (s sample) String() string {
	return fmt.Sprintf("CPU: this process %s, PostgreSQL %s", s.self.Round(time.Millisecond), s.pg.Round(time.Millisecond))
}

// statFields splits /proc/pid/stat after the command name (which may hold
// spaces), numbering fields as proc(5) does minus one.
func statFields(pid int) []string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return nil
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return nil
	}
	return append([]string{"pid", "comm"}, strings.Fields(s[i+1:])...)
}

func ppid(pid int) int {
	if f := statFields(pid); len(f) > 3 {
		p, _ := strconv.Atoi(f[3])
		return p
	}
	return 0
}

func ticks(s string) time.Duration {
	n, _ := strconv.ParseInt(s, 10, 64)
	return time.Duration(n) * clockTick
}
