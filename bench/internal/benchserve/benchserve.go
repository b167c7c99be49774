// Package benchserve runs a program under a benchmark as its own process:
// wait until it answers ready, stop it with a grace period. The benchmarks
// (bench/admin, bench/transactional, bench/journeys) start `peykar serve`
// and their SMTP sinks with it.
package benchserve

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"time"
)

// WaitReady polls base+"/readyz" until it answers 200, for at most within.
func WaitReady(base string, within time.Duration) error {
	deadline := time.Now().Add(within)
	for {
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready after %s", base, within)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Stop sends cmd's process sig, waits up to grace for it to end, then
// kills it. A command that never started is left alone.
func Stop(cmd *exec.Cmd, sig os.Signal, grace time.Duration) {
	if cmd == nil || cmd.Process == nil {
		return
	}
	_ = cmd.Process.Signal(sig)
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(grace):
		_ = cmd.Process.Kill()
		<-done
	}
}
