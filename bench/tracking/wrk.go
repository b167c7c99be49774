package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/peykar/peykar/bench/internal/benchserve"
)

// wrkScript drives wrk over files of distinct click paths, one per thread
// (PATHS.0, PATHS.1, …), so no token is clicked twice; counts 302s and other
// answers; and stops clicking on each connection once its thread's clicking
// window is over (it sends a request that never ends instead), so every
// click sent is answered before wrk closes its connections: the 302s counted are exactly
// the clicks the server acknowledged. Latency percentiles are wrk's, over
// every request.
const wrkScript = `
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } wrk_timespec;
int clock_gettime(int clk, wrk_timespec *tp);
int usleep(unsigned int usec);
]]
local ts = ffi.new("wrk_timespec")
local function now()
  ffi.C.clock_gettime(0, ts) -- CLOCK_REALTIME: the benchmark gives the start time
  return tonumber(ts.tv_sec) + tonumber(ts.tv_nsec) / 1e9
end

local threads = {}
local counter = 0
function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  local file, agent = args[1], args[2]
  window, start = tonumber(args[3]), tonumber(args[4])
  headers = {["User-Agent"] = agent}
  reqs = {}
  for line in io.lines(file .. "." .. id) do
    reqs[#reqs + 1] = line -- formatted when sent: thread starts stay close
  end
  -- After the window: a request whose headers never end, so the server
  -- waits (no event, no answer) until wrk is stopped and the connection
  -- closes. Nothing is in flight then, and no request is cut.
  hold = "GET /t/c/- HTTP/1.1\r\nHost: bench\r\n"
  verify = id == 0 -- wrk calls thread 0's request() once to check the script
  pos, found, other, sent = 0, 0, 0, 0
  first, last, deadline = 0, 0, nil
end

function request()
  if verify then
    verify = false
    return wrk.format("GET", reqs[1], headers)
  end
  local t = now()
  if deadline == nil then
    -- Every thread starts clicking at the same time (reading the paths
    -- takes a while, and threads are set up one after the other).
    if t < start then
      ffi.C.usleep(math.floor((start - t) * 1e6))
      t = now()
    end
    first, last, deadline = t, t, t + window
  end
  if t >= deadline then
    return hold
  end
  pos = pos + 1
  if pos > #reqs then pos = 1 end -- more clicks than tokens: repeat (the check still holds)
  sent = sent + 1
  return wrk.format("GET", reqs[pos], headers)
end

function response(status, headers, body)
  if status == 302 then found = found + 1 else other = other + 1 end
  last = now()
end

function done(summary, latency, requests)
  local f, o, s, t0, t1 = 0, 0, 0, nil, 0
  for _, t in ipairs(threads) do
    f = f + t:get("found")
    o = o + t:get("other")
    s = s + t:get("sent")
    local a, b = t:get("first"), t:get("last")
    if t0 == nil or a < t0 then t0 = a end
    if b > t1 then t1 = b end
  end
  io.write(string.format("PEYKAR found=%d other=%d sent=%d elapsed=%.6f p50=%d p90=%d p99=%d max=%d errors=%d\n",
    f, o, s, t1 - t0, latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
`

// wrkResult is what the script's done() reports.
type wrkResult struct {
	found, other, sent, errors int64
	elapsed                    time.Duration
	p50, p90, p99, max         time.Duration
	cpu                        time.Duration // wrk's own CPU in the measured window
}

// runWrk clicks the paths (one per line in pathFile.0, pathFile.1, … one
// file per thread) for window with conns connections over threads threads.
// sample is called once started reports the first click and once idle
// reports that every click is recorded, so CPU samples bracket the
// clicking; wrk's own CPU between those two moments is in the result.
func runWrk(ctx context.Context, base, pathFile string, lines, threads, conns int, window time.Duration, started, idle func() bool, sample func()) (wrkResult, error) {
	dir, err := os.MkdirTemp("", "pkwrk")
	if err != nil {
		return wrkResult{}, err
	}
	defer os.RemoveAll(dir)
	script := filepath.Join(dir, "click.lua")
	if err := os.WriteFile(script, []byte(wrkScript), 0o600); err != nil {
		return wrkResult{}, err
	}
	// wrk runs past the window so connections finish their last click; the
	// script sends nothing after it, and wrk is interrupted (it then prints
	// its summary) once all is answered.
	grace := 30 * time.Second
	// Threads start clicking together this long from now (each reads its
	// paths first).
	startIn := 2*time.Second + time.Duration(lines/threads)*5*time.Microsecond
	cmd := exec.CommandContext(ctx, "wrk", "-t", strconv.Itoa(threads), "-c", strconv.Itoa(conns),
		"-d", fmt.Sprintf("%ds", int((startIn+window+grace).Seconds())), "--timeout", "10s", "-s", script, base+"/",
		"--", pathFile, userAgent, strconv.FormatFloat(window.Seconds(), 'f', 3, 64),
		strconv.FormatFloat(float64(time.Now().Add(startIn).UnixNano())/1e9, 'f', 6, 64))
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return wrkResult{}, fmt.Errorf("start wrk: %w", err)
	}
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	pid := cmd.Process.Pid

	// Start: the first event arrives (wrk has loaded its tokens).
	for !started() {
		select {
		case err := <-waited:
			return wrkResult{}, fmt.Errorf("wrk ended early: %v\n%s", err, out.String())
		case <-time.After(time.Millisecond):
		}
	}
	sample()
	cpu0 := benchserve.PidCPU(pid)
	// End: the window is over and nothing has arrived for a while.
	time.Sleep(window)
	for !idle() {
		time.Sleep(5 * time.Millisecond)
	}
	sample()
	cpu1 := benchserve.PidCPU(pid)
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		return wrkResult{}, fmt.Errorf("stop wrk: %w", err)
	}
	if err := <-waited; err != nil {
		return wrkResult{}, fmt.Errorf("wrk: %w\n%s", err, out.String())
	}
	r, err := parseWrk(out.String())
	if err != nil {
		return wrkResult{}, err
	}
	r.cpu = cpu1 - cpu0
	if r.sent != r.found+r.other {
		return r, fmt.Errorf("wrk sent %d clicks but %d were answered (%d errors): stopped too early\n%s", r.sent, r.found+r.other, r.errors, out.String())
	}
	return r, nil
}

func parseWrk(out string) (wrkResult, error) {
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line, ok := strings.CutPrefix(sc.Text(), "PEYKAR ")
		if !ok {
			continue
		}
		var r wrkResult
		var elapsed float64
		var p50, p90, p99, mx int64
		if _, err := fmt.Sscanf(line, "found=%d other=%d sent=%d elapsed=%f p50=%d p90=%d p99=%d max=%d errors=%d",
			&r.found, &r.other, &r.sent, &elapsed, &p50, &p90, &p99, &mx, &r.errors); err != nil {
			return wrkResult{}, fmt.Errorf("parse wrk summary %q: %w", line, err)
		}
		r.elapsed = time.Duration(elapsed * float64(time.Second))
		r.p50, r.p90, r.p99, r.max = time.Duration(p50)*time.Microsecond, time.Duration(p90)*time.Microsecond,
			time.Duration(p99)*time.Microsecond, time.Duration(mx)*time.Microsecond
		return r, nil
	}
	return wrkResult{}, fmt.Errorf("no summary in wrk's output:\n%s", out)
}
