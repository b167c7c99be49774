package main

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestWorkerFrozenNoDuplicates freezes one of two workers with SIGSTOP
// mid-send for longer than the dead-worker threshold, waits until the
// other worker has taken its jobs over and sent more, then lets the frozen
// one go on with SIGCONT. The frozen worker was presumed dead: it must not
// send what was taken over (its lease lapsed, its heartbeat is refused and
// its jobs are cancelled), so only the messages it had already handed to
// SMTP when it froze may go twice (the crash window, at most
// maxUncommitted = 96 per process), and nobody is missing.
func TestWorkerFrozenNoDuplicates(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three processes and sends 20,000 messages")
	}
	t.Parallel()
	r := newProcRig(t, 20000, 4)
	_, web := r.start("web")
	w1, _ := r.start("worker")
	r.start("worker")
	id := r.launch(web)

	require.Eventually(t, func() bool {
		return r.sink.Count() >= r.n/5 && r.runningJobsOf(w1.Process.Pid) > 0
	}, 2*time.Minute, 5*time.Millisecond)
	require.NoError(t, w1.Process.Signal(syscall.SIGSTOP))
	t.Cleanup(func() { _ = w1.Process.Signal(syscall.SIGCONT) })
	frozen := time.Now()
	atFreeze := r.sink.Count()
	t.Logf("froze pid %d after %d messages", w1.Process.Pid, atFreeze)

	// The other worker's sweep presumes the frozen one dead and takes its
	// jobs; the frozen one goes on only once the other has worked them.
	r.logRescue(w1.Process.Pid, frozen)
	// A freeze that lands inside one of the frozen worker's transactions
	// keeps its row locks (the campaign's rollup rows) and stalls the
	// other worker's commits until it goes on: then it resumes without a
	// takeover after a minute, and the test still checks exactly once.
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for deadline := time.Now().Add(time.Minute); r.takenOver(w1.Process.Pid) == 0; <-tick.C {
		if time.Now().After(deadline) {
			t.Logf("no takeover a minute after the rescue: the frozen worker holds locks the other waits for")
			break
		}
	}
	t.Logf("another worker took %d of the frozen one's jobs %s after the freeze", r.takenOver(w1.Process.Pid), time.Since(frozen).Round(100*time.Millisecond))
	atResume := r.sink.Count()
	require.NoError(t, w1.Process.Signal(syscall.SIGCONT))
	t.Logf("resumed pid %d after %s, %d messages sent", w1.Process.Pid, time.Since(frozen).Round(100*time.Millisecond), atResume)

	t.Cleanup(func() {
		if t.Failed() {
			r.logClaims()
		}
	})
	r.waitFinished(web, id)
	r.logResends(atFreeze, atResume)
	resent := r.checkEveryone(web, id, 96)
	t.Logf("sent twice after a freeze past the dead-worker threshold: %d", resent)
}

// takenOver counts the jobs that the process with operating-system pid
// pid attempted before and another process attempted since, running or
// already done (river_job is only read).
func (r *procRig) takenOver(pid int) int {
	var n int
	require.NoError(r.t, r.db.QueryRow(context.Background(), `SELECT count(*) FROM river_job j, processes p
		WHERE p.pid = $1 AND p.id = ANY(j.attempted_by)
		AND j.attempted_by[array_upper(j.attempted_by, 1)] <> p.id`, pid).Scan(&n))
	return n
}

// logClaims logs, for a failure, the rows still being sent by job: the
// job's state, attempts and errors, and when its rows were claimed.
func (r *procRig) logClaims() {
	rows, err := r.db.Query(context.Background(), `SELECT j.id, j.state, j.attempted_by::text, j.attempted_at,
		(SELECT string_agg(e->>'error', ' | ') FROM unnest(j.errors) e), count(d.id), min(d.sending_at), max(d.sending_at)
		FROM deliveries d JOIN river_job j ON j.id = d.claimed_by WHERE d.status = 'sending'
		GROUP BY 1, 2, 3, 4, 5`)
	if err != nil {
		r.t.Log(err)
		return
	}
	defer rows.Close()
	for rows.Next() {
		vals, err := rows.Values()
		r.t.Logf("still sending: %v %v", vals, err)
	}
}

// logResends sorts, for a failure's diagnosis, the recipients who got the
// message twice by when the sink accepted each copy: before the freeze,
// while frozen, or after the resume.
func (r *procRig) logResends(atFreeze, atResume int) {
	when := func(i int) string {
		switch {
		case i < atFreeze:
			return "before"
		case i < atResume:
			return "frozen"
		default:
			return "resumed"
		}
	}
	first := map[string]int{}
	pairs := map[string]int{}
	for i, m := range r.sink.Messages() {
		if j, ok := first[m.To[0]]; ok {
			pairs[when(j)+"→"+when(i)]++
			continue
		}
		first[m.To[0]] = i
	}
	r.t.Logf("sent twice, by when each copy arrived: %v", pairs)
}
