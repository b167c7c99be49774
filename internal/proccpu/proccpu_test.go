package proccpu

import (
	"os"
	"testing"
)

// The process's own CPU time grows while it spins, and a pid that does
// not exist is an error, not a zero.
func TestSchedGrowsAndRefusesAMissingProcess(t *testing.T) {
	before, err := Sched(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	for x := 0; ; x++ {
		now, err := Sched(os.Getpid())
		if err != nil {
			t.Fatal(err)
		}
		if now > before {
			break
		}
		_ = x * x
	}
	if _, err := Sched(1 << 30); err == nil {
		t.Fatal("no error for a pid that cannot exist")
	}
}
