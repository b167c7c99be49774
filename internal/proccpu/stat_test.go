package proccpu

import (
	"os"
	"testing"
	"time"
)

// Stat reads this process's parent, and its CPU time grows while it
// spins (in 10 ms ticks: it spins until the next one); a pid that does
// not exist is an error.
func TestStatReadsParentAndGrowingCPU(t *testing.T) {
	before, err := Stat(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if before.PPID != os.Getppid() {
		t.Fatalf("PPID %d, want %d", before.PPID, os.Getppid())
	}
	deadline := time.Now().Add(time.Minute)
	for {
		now, err := Stat(os.Getpid())
		if err != nil {
			t.Fatal(err)
		}
		if now.CPU() > before.CPU() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("CPU time stayed at %v for a minute of spinning", now.CPU())
		}
	}
	if _, err := Stat(1 << 30); err == nil {
		t.Fatal("a missing process read without an error")
	}
}
