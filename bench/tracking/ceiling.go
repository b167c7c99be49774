package main

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/peykar/peykar/bench/internal/benchserve"
	"github.com/peykar/peykar/internal/runtimetune"
)

// The ceiling is the same wrk run (same script, connections, threads and
// tokens) against a trivial Go net/http server in its own process that
// answers every click with a 302 to a fixed URL and stores nothing: what
// this machine's HTTP/1.1 cycle and load generator allow, with no
// database and no tracking work. It is the click path's counterpart of
// bench/send's bare go-mail loop. net/http (not a hand-written server) is
// chosen because peykar serves clicks through net/http too: the gap
// between the two is what Peykar's own work costs.

// ceilingCount is the path that answers how many 302s the ceiling server
// has sent (the bench's idle check; wrk never asks for it).
const ceilingCount = "/__count"

// serveCeiling runs the ceiling server (the -ceiling-server mode): it
// prints its port on standard output and serves until killed.
func serveCeiling() error {
	runtimetune.Apply() // as peykar runs
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	var n atomic.Int64
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == ceilingCount {
			fmt.Fprintf(w, "%d", n.Load())
			return
		}
		w.Header().Set("Location", "https://shop.example/p/0")
		w.WriteHeader(http.StatusFound)
		n.Add(1)
	})
	fmt.Println(ln.Addr().(*net.TCPAddr).Port)
	return (&http.Server{Handler: h, ReadHeaderTimeout: time.Minute}).Serve(ln)
}

// ceilingProc is the ceiling server started as a child of the benchmark.
type ceilingProc struct {
	cmd  *exec.Cmd
	base string
}

func startCeiling() (*ceilingProc, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(self, "-ceiling-server")
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("ceiling server: %w", err)
	}
	c := &ceilingProc{cmd: cmd}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		c.stop()
		return nil, fmt.Errorf("ceiling server port: %w", err)
	}
	port, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil {
		c.stop()
		return nil, fmt.Errorf("ceiling server port %q: %w", line, err)
	}
	c.base = fmt.Sprintf("http://127.0.0.1:%d", port)
	return c, nil
}

func (c *ceilingProc) stop() { benchserve.Stop(c.cmd, syscall.SIGTERM, 5*time.Second) }

func (c *ceilingProc) cpu() time.Duration { return benchserve.PidCPU(c.cmd.Process.Pid) }

// count asks the server how many 302s it has answered.
func (c *ceilingProc) count() int64 {
	resp, err := http.Get(c.base + ceilingCount)
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	var n int64
	if _, err := fmt.Fscan(resp.Body, &n); err != nil {
		return -1
	}
	return n
}
