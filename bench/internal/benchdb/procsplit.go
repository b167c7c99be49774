package benchdb

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/peykar/peykar/internal/proccpu"
)

// ProcSplit samples every process of an embedded cluster every 100 ms and
// charges its CPU (schedstat, nanoseconds) to its role, read from the
// title PostgreSQL gives it (/proc/PID/cmdline: "postgres: walwriter",
// "postgres: autovacuum worker bench", a client backend's "postgres: user
// db host(port) state"). Sampling, not two reads, because autovacuum
// workers start and end inside a send: SampleCPU's two reads miss them.
// What an exited process ran after its last sample is not lost either:
// the postmaster reaps its children, so the kernel adds their whole CPU
// to its cutime and cstime; that less what the samples saw of the
// processes that exited is the exited processes' tail (10 ms ticks).
type ProcSplit struct {
	pm   int
	own  func(pid int) bool
	stop chan struct{}
	done chan struct{}

	mu     sync.Mutex
	procs  map[int]*procSample
	cutim0 time.Duration
	start  time.Time
	marks  []splitMark
	// printed is how many marks Print has printed.
	printed int
}

type procSample struct {
	role        string
	first, last time.Duration
	// born says the process started after the sampler did (its CPU
	// before the first sample is in the window too); gone that it ended.
	born, gone bool
}

// splitMark is each process's CPU up to a moment (Mark), so phases can be
// told apart: the send, and the vacuum it leaves after it.
type splitMark struct {
	name string
	at   time.Time
	cpu  map[int]time.Duration
	tail time.Duration
}

// StartProcSplit starts sampling the cluster whose data directory is
// pgDataDir; own says which client backends are the benchmark's own
// connections (charged apart from the server's under test).
func StartProcSplit(pgDataDir string, own func(pid int) bool) (*ProcSplit, error) {
	pidFile, err := os.ReadFile(filepath.Join(pgDataDir, "postmaster.pid"))
	if err != nil {
		return nil, fmt.Errorf("proc split: %w", err)
	}
	pm, err := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(pidFile), "\n", 2)[0]))
	if err != nil {
		return nil, fmt.Errorf("proc split: postmaster.pid: %w", err)
	}
	p := &ProcSplit{pm: pm, own: own, stop: make(chan struct{}), done: make(chan struct{}), procs: map[int]*procSample{}}
	p.cutim0, p.start = childrenCPU(pm), time.Now()
	p.sample(false)
	go p.loop()
	return p, nil
}

func (p *ProcSplit) loop() {
	defer close(p.done)
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
			p.sample(true)
		}
	}
}

// sample reads every child of the postmaster; born marks processes seen
// for the first time as started inside the window.
func (p *ProcSplit) sample(born bool) {
	entries, _ := os.ReadDir("/proc")
	seen := map[int]bool{}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || (pid != p.pm && !isChildOf(pid, p.pm)) {
			continue
		}
		cpu, err := proccpu.Sched(pid)
		if err != nil {
			continue
		}
		seen[pid] = true
		p.mu.Lock()
		s := p.procs[pid]
		if s == nil {
			s = &procSample{role: p.role(pid), first: cpu, born: born}
			if born {
				s.first = 0
			}
			p.procs[pid] = s
		}
		s.last = cpu
		p.mu.Unlock()
	}
	p.mu.Lock()
	for pid, s := range p.procs {
		if !seen[pid] {
			s.gone = true
		}
	}
	p.mu.Unlock()
}

func isChildOf(pid, pm int) bool {
	st, err := proccpu.Stat(pid)
	return err == nil && st.PPID == pm
}

// childrenCPU is the CPU of the postmaster's reaped children (cutime +
// cstime, /proc/PID/stat fields 16 and 17).
func childrenCPU(pm int) time.Duration {
	st, err := proccpu.Stat(pm)
	if err != nil {
		return 0
	}
	return st.ChildUser + st.ChildSyst
}

// role names a cluster process by its title.
func (p *ProcSplit) role(pid int) string {
	if pid == p.pm {
		return "postmaster"
	}
	raw, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil {
		return "unknown (exited before its title was read)"
	}
	title := strings.TrimPrefix(strings.TrimRight(strings.ReplaceAll(string(raw), "\x00", " "), " "), "postgres: ")
	for _, r := range []string{"autovacuum worker", "autovacuum launcher", "walwriter", "checkpointer", "background writer",
		"logical replication launcher", "archiver", "startup", "walsender", "walreceiver", "stats collector"} {
		if strings.HasPrefix(title, r) {
			return r
		}
	}
	if strings.HasPrefix(title, "parallel worker") {
		return "parallel workers"
	}
	if p.own != nil && p.own(pid) {
		return "the bench's own connections"
	}
	// Every other child is a client backend ("user database [local]
	// state" or "user database host(port) state").
	return "client backends (peykar)"
}

// Mark records each process's CPU from the start to now under name.
func (p *ProcSplit) Mark(name string) {
	p.sample(true)
	tail := childrenCPU(p.pm) - p.cutim0
	p.mu.Lock()
	defer p.mu.Unlock()
	m := splitMark{name: name, at: time.Now(), cpu: map[int]time.Duration{}}
	for pid, s := range p.procs {
		m.cpu[pid] = s.last - s.first
		if s.gone {
			// cutime holds the whole life of each reaped child: take
			// away what the samples saw of it (its whole CPU so far,
			// from before the start too).
			tail -= s.last
		}
	}
	m.tail = max(tail, 0)
	p.marks = append(p.marks, m)
}

// Stop ends the sampling.
func (p *ProcSplit) Stop() {
	close(p.stop)
	<-p.done
}

// Print prints each phase not printed yet: its CPU by role per 1,000
// messages, with how many processes of the role ran in it (the first mark
// from the start, each later one from the mark before it).
func (p *ProcSplit) Print(w io.Writer, msgs int64) {
	per := float64(max(msgs, 1)) / 1000
	p.mu.Lock()
	defer p.mu.Unlock()
	prev := splitMark{at: p.start, cpu: map[int]time.Duration{}}
	if p.printed > 0 {
		prev = p.marks[p.printed-1]
	}
	for _, m := range p.marks[p.printed:] {
		byRole, count := map[string]time.Duration{}, map[string]int{}
		var total time.Duration
		for pid, d := range m.cpu {
			d -= prev.cpu[pid]
			if d <= 0 {
				continue
			}
			r := p.procs[pid].role
			byRole[r] += d
			count[r]++
			total += d
		}
		tail := m.tail - prev.tail
		total += tail
		roles := make([]string, 0, len(byRole))
		for r := range byRole {
			roles = append(roles, r)
		}
		sort.Slice(roles, func(i, j int) bool { return byRole[roles[i]] > byRole[roles[j]] })
		parts := make([]string, 0, len(roles)+1)
		for _, r := range roles {
			parts = append(parts, fmt.Sprintf("%s %.4f (%d)", r, byRole[r].Seconds()/per, count[r]))
		}
		parts = append(parts, fmt.Sprintf("exited processes after their last sample %.4f", tail.Seconds()/per))
		fmt.Fprintf(w, "PostgreSQL CPU by process (processes that ran), %s, %s: %.4f s per 1,000 messages (%.0f%% of a core) = %s\n",
			m.name, m.at.Sub(prev.at).Round(time.Millisecond), total.Seconds()/per, 100*total.Seconds()/m.at.Sub(prev.at).Seconds(), strings.Join(parts, ", "))
		prev = m
	}
	p.printed = len(p.marks)
}
