package benchdb

import (
	"fmt"
	"io"
	"os"
	"strconv"
)

// BENCH_PG_EXPLAIN=FILE loads auto_explain into the embedded cluster and
// keeps its server log in FILE when the cluster stops: the plan of every
// statement that ran at least BENCH_PG_EXPLAIN_MS milliseconds (default 5;
// 0 logs every statement), executed (rows, loops and buffers of each plan
// node; no per-node timing, which would cost more than the statements),
// with the statements the triggers and functions run inside them and the
// triggers' calls. pg_stat_statements says which statements take the time;
// these plans say where in them it goes. Off by default: the
// instrumentation costs CPU, so a run with it measures plans, not speed.
func explainSettings() map[string]string {
	if os.Getenv("BENCH_PG_EXPLAIN") == "" {
		return nil
	}
	ms := 5
	if v := os.Getenv("BENCH_PG_EXPLAIN_MS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			fmt.Fprintf(os.Stderr, "BENCH_PG_EXPLAIN_MS=%q: want a whole number of milliseconds; using 5\n", v)
		} else {
			ms = n
		}
	}
	libs := "auto_explain"
	if os.Getenv("BENCH_PG_STATEMENTS") == "1" {
		libs = "pg_stat_statements,auto_explain"
	}
	return map[string]string{
		"shared_preload_libraries":           libs,
		"auto_explain.log_min_duration":      strconv.Itoa(ms),
		"auto_explain.log_analyze":           "on",
		"auto_explain.log_timing":            "off",
		"auto_explain.log_buffers":           "on",
		"auto_explain.log_wal":               "on",
		"auto_explain.log_triggers":          "on",
		"auto_explain.log_nested_statements": "on",
		"auto_explain.log_verbose":           "off",
	}
}

// keepExplainLog copies the embedded cluster's server log to
// BENCH_PG_EXPLAIN's file before the cluster's directory is removed.
func keepExplainLog(log string) {
	dst := os.Getenv("BENCH_PG_EXPLAIN")
	if dst == "" {
		return
	}
	if err := copyFile(log, dst); err != nil {
		fmt.Fprintf(os.Stderr, "BENCH_PG_EXPLAIN: keeping the server log: %v\n", err)
		return
	}
	fmt.Fprintf(os.Stderr, "BENCH_PG_EXPLAIN: the plans are in %s\n", dst)
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer func() { _ = in.Close() }()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		_ = out.Close()
		return err
	}
	return out.Close()
}
