package main

import (
	"context"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// backendCPU is the CPU time of each live client backend (the recompute's
// connections), by pid: unlike the cluster total it leaves out autovacuum,
// the checkpointer and other background work, which after generating a
// large base can take as much CPU as the recompute itself.
type backendCPU map[int]time.Duration

// clientBackends reads the CPU time of every client backend of the local
// server; empty when the server is not local.
func clientBackends(ctx context.Context, pool *pgxpool.Pool) backendCPU {
	out := backendCPU{}
	rows, err := pool.Query(ctx, `SELECT pid FROM pg_stat_activity WHERE backend_type = 'client backend'`)
	if err != nil {
		return out
	}
	pids, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		return out
	}
	for _, pid := range pids {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(int(pid)) + "/stat")
		if err != nil {
			continue
		}
		s := string(b)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
		if len(f) < 13 {
			continue
		}
		ut, _ := strconv.Atoi(f[11]) // utime, field 14 of stat(5)
		st, _ := strconv.Atoi(f[12]) // stime, field 15
		out[int(pid)] = time.Duration(ut+st) * time.Second / clockTicks
	}
	return out
}

// since is the CPU the client backends used since before (a backend that
// started in between counts from zero).
func (c backendCPU) since(before backendCPU) time.Duration {
	var d time.Duration
	for pid, t := range c {
		d += t - before[pid]
	}
	return d
}
