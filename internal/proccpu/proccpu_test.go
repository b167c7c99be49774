package proccpu

import (
	"runtime"
	"syscall"
	"testing"
	"time"
)

// A thread's CPU time grows while it spins, and a pid that does not exist
// is an error, not a zero. The spinning thread is read by its own id
// (/proc/TID works for any thread): the process's pid would read only its
// first thread, which need not be the one running this test.
func TestSchedGrowsAndRefusesAMissingProcess(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	tid := syscall.Gettid()
	before, err := Sched(tid)
	if err != nil {
		t.Fatal(err)
	}
	// The counter moves at the scheduler's next tick or switch; the
	// deadline only turns a counter that never moves into a failure.
	for deadline := time.Now().Add(time.Minute); ; {
		now, err := Sched(tid)
		if err != nil {
			t.Fatal(err)
		}
		if now > before {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a spinning thread's CPU time stayed at %v", now)
		}
	}
	if _, err := Sched(1 << 30); err == nil {
		t.Fatal("no error for a pid that cannot exist")
	}
}
