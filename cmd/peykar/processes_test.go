package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/internal/auth"
	"github.com/peykar/peykar/internal/factory"
	"github.com/peykar/peykar/internal/smtptest"
	"github.com/peykar/peykar/migrations/pgtest"
)

// procRig is one database, one SMTP sink and an audience, shared by the
// processes a test starts.
type procRig struct {
	t     *testing.T
	n     int
	db    *pgxpool.Pool
	sink  *smtptest.Server
	env   []string
	token string
	segID int64
	tplID int64
}

func newProcRig(t *testing.T, n, smtpPool int) *procRig {
	t.Helper()
	ctx := context.Background()
	dsn := pgtest.NewDSN(t)
	sink, err := smtptest.Start(smtptest.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { sink.Close() })
	db, err := pgxpool.New(ctx, dsn)
	require.NoError(t, err)
	t.Cleanup(db.Close)
	// Raw on purpose: n contacts in one set-based statement.
	_, err = db.Exec(ctx, `INSERT INTO contacts (email, name) SELECT 'r' || i || '@example.com', 'R ' || i FROM generate_series(1, $1) i`, n)
	require.NoError(t, err)
	_, token, err := auth.CreateToken(ctx, db, "processes test", auth.RoleMarketer, 0)
	require.NoError(t, err)
	return &procRig{
		t: t, n: n, db: db, sink: sink, token: token,
		segID: factory.Segment(t, db, factory.SegmentName("all")).ID,
		tplID: factory.Template(t, db, factory.Subject("Hi {{ .Contact.Name }}"), factory.HTML(`<p>Hi</p><a href="https://shop.example/">shop</a><p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p>`)).ID,
		env: []string{
			"DATABASE_URL=" + dsn,
			fmt.Sprintf("SMTP_URL=smtp://127.0.0.1:%d?tls=none&pool=%d", sink.Port(), smtpPool),
			"PEYKAR_ADDR=127.0.0.1:0",
			"PEYKAR_DATA_DIR=" + t.TempDir(),
			"PEYKAR_SECRET=processes-test-secret-processes-test",
			// River's own rescue stays at its default (3 minutes): only
			// the heartbeat can bring the dead worker's jobs back in time.
			"PEYKAR_LOG_LEVEL=warn",
		},
	}
}

// start runs a peykar process in mode (web, worker or all); its log is
// shown when the test fails.
func (r *procRig) start(mode string) (*exec.Cmd, string) {
	r.t.Helper()
	cmd, url := startChild(r.t, append(append([]string{}, r.env...), "PEYKAR_MODE="+mode))
	r.t.Cleanup(func() {
		if r.t.Failed() {
			r.t.Logf("%s pid %d log:\n%s", mode, cmd.Process.Pid, cmd.Stderr)
		}
	})
	return cmd, url
}

// launch creates and launches a campaign to everyone through web's API.
func (r *procRig) launch(web string) int64 {
	r.t.Helper()
	var c struct {
		ID int64 `json:"id"`
	}
	postJSON(r.t, web+"/api/v1/campaigns", r.token, map[string]any{
		"name": "processes", "segment_id": r.segID, "channel": "email",
		"from":  map[string]string{"name": "Shop", "email": "news@shop.example"},
		"steps": []map[string]any{{"key": "main", "template_id": r.tplID}},
	}, &c)
	postJSON(r.t, fmt.Sprintf("%s/api/v1/campaigns/%d/launch", web, c.ID), r.token, nil, nil)
	return c.ID
}

// runningJobsOf counts the running jobs last attempted by the process with
// operating-system pid pid (processes.pid; river_job is only read).
func (r *procRig) runningJobsOf(pid int) int {
	var n int
	require.NoError(r.t, r.db.QueryRow(context.Background(), `SELECT count(*) FROM river_job j
		JOIN processes p ON p.id = j.attempted_by[array_upper(j.attempted_by, 1)]
		WHERE j.state = 'running' AND p.pid = $1`, pid).Scan(&n))
	return n
}

// killMidSend waits until a fifth of the audience has been sent and cmd
// holds running jobs, then kills it with SIGKILL and returns when.
func (r *procRig) killMidSend(cmd *exec.Cmd) time.Time {
	r.t.Helper()
	require.Eventually(r.t, func() bool {
		return r.sink.Count() >= r.n/5 && r.runningJobsOf(cmd.Process.Pid) > 0
	}, 2*time.Minute, 5*time.Millisecond)
	require.NoError(r.t, cmd.Process.Kill()) // no shutdown at all
	killed := time.Now()
	_, _ = cmd.Process.Wait()
	at := r.sink.Count()
	r.t.Logf("killed pid %d after %d messages", cmd.Process.Pid, at)
	require.Less(r.t, at, r.n, "the kill landed mid-send")
	return killed
}

// logRescue waits until no job is running in the dead process pid any
// more (the heartbeat sweep made them available again) and logs when.
func (r *procRig) logRescue(pid int, killed time.Time) {
	r.t.Helper()
	require.Eventually(r.t, func() bool { return r.runningJobsOf(pid) == 0 }, 2*time.Minute, 20*time.Millisecond)
	r.t.Logf("the dead worker's jobs were rescued %s after the kill", time.Since(killed).Round(100*time.Millisecond))
}

// waitFinished polls web until the campaign is finished (a generous
// deadline: the time it took is logged, not asserted).
func (r *procRig) waitFinished(web string, id int64) {
	r.t.Helper()
	next := time.Now()
	require.Eventually(r.t, func() bool {
		if time.Now().After(next) {
			r.t.Logf("state: %s", r.state(id))
			next = time.Now().Add(5 * time.Second)
		}
		resp, err := getAuth(fmt.Sprintf("%s/api/v1/campaigns/%d", web, id), r.token)
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		var got struct{ Status string }
		_ = json.NewDecoder(resp.Body).Decode(&got)
		return got.Status == "finished"
	}, 3*time.Minute, 50*time.Millisecond, "not finished: %s", r.state(id))
}

// state describes the jobs, processes and deliveries, for a failure.
func (r *procRig) state(id int64) string {
	var s string
	err := r.db.QueryRow(context.Background(), `SELECT
		(SELECT coalesce(string_agg(state || ':' || n, ' '), '') FROM (SELECT state, count(*) n FROM river_job WHERE kind IN ('send', 'send_packed') GROUP BY 1) j)
		|| ' | ' || (SELECT coalesce(string_agg(id || ' ' || mode || ' ' || (now() - heartbeat_at)::text || ' ' || coalesce(stopped_at::text, '-'), '; '), '') FROM processes)
		|| ' | ' || (SELECT coalesce(string_agg(status || ':' || n, ' '), '') FROM (SELECT status, count(*) n FROM deliveries WHERE campaign_id = $1 GROUP BY 1) d)`, id).Scan(&s)
	if err != nil {
		return err.Error()
	}
	return s
}

// checkEveryone asserts that every recipient got the message, that at most
// maxResent were sent twice, and that the report equals the raw rows; it
// returns how many were sent twice.
func (r *procRig) checkEveryone(web string, id int64, maxResent int) int {
	r.t.Helper()
	received := map[string]int{}
	for _, m := range r.sink.Messages() {
		received[m.To[0]]++
	}
	require.Len(r.t, received, r.n, "every recipient received the message")
	resent := r.sink.Count() - r.n
	r.t.Logf("%d messages for %d recipients: %d sent twice", r.sink.Count(), r.n, resent)
	require.LessOrEqual(r.t, resent, maxResent, "re-sent messages stay within the crash window")

	var raw struct{ sent, other int }
	require.NoError(r.t, r.db.QueryRow(context.Background(), `SELECT count(*) FILTER (WHERE status = 'sent'),
		count(*) FILTER (WHERE status <> 'sent') FROM deliveries WHERE campaign_id = $1`, id).Scan(&raw.sent, &raw.other))
	require.Equal(r.t, r.n, raw.sent, "every delivery is recorded as sent")
	require.Zero(r.t, raw.other)
	var report struct {
		Metrics struct {
			Sent int `json:"sent"`
		} `json:"metrics"`
		Progress struct {
			Total int `json:"total"`
			Sent  int `json:"sent"`
		} `json:"progress"`
	}
	resp, err := getAuth(fmt.Sprintf("%s/api/v1/campaigns/%d/report", web, id), r.token)
	require.NoError(r.t, err)
	defer resp.Body.Close()
	require.NoError(r.t, json.NewDecoder(resp.Body).Decode(&report))
	require.Equal(r.t, raw.sent, report.Metrics.Sent, "the report's sent equals the raw rows")
	require.Equal(r.t, r.n, report.Progress.Total)
	require.Equal(r.t, raw.sent, report.Progress.Sent)
	return resent
}

// watchWeb polls web's /readyz and the campaign's report until stop is
// closed, and returns the number of requests made and failed.
func (r *procRig) watchWeb(web string, id int64, stop <-chan struct{}) (done <-chan [2]int64) {
	out := make(chan [2]int64, 1)
	go func() {
		var n, failed atomic.Int64
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		check := func(url, token string) {
			n.Add(1)
			resp, err := getAuth(url, token)
			if err != nil {
				failed.Add(1)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				failed.Add(1)
			}
		}
		for {
			select {
			case <-stop:
				out <- [2]int64{n.Load(), failed.Load()}
				return
			case <-tick.C:
				check(web+"/readyz", "")
				check(fmt.Sprintf("%s/api/v1/campaigns/%d/report", web, id), r.token)
			}
		}
	}()
	return out
}

// TestWorkerKilledOtherFinishes runs one web and two worker processes on
// one database, kills one worker with SIGKILL mid-send, and checks that
// the other finishes the campaign (its heartbeat sweep rescues the dead
// worker's jobs within seconds, not River's 3-minute rescue), that nobody
// is missing and few are sent twice, that the report equals the raw rows,
// and that web answered throughout.
func TestWorkerKilledOtherFinishes(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three processes and sends 20,000 messages")
	}
	t.Parallel()
	r := newProcRig(t, 20000, 4)
	_, web := r.start("web")
	w1, _ := r.start("worker")
	r.start("worker")

	id := r.launch(web)
	stop := make(chan struct{})
	watched := r.watchWeb(web, id, stop)
	killed := r.killMidSend(w1)
	r.logRescue(w1.Process.Pid, killed)
	r.waitFinished(web, id)
	t.Logf("the surviving worker finished %s after the kill", time.Since(killed).Round(100*time.Millisecond))
	close(stop)
	got := <-watched
	t.Logf("web answered %d requests during the send, %d failed", got[0], got[1])
	require.Positive(t, got[0])
	require.Zero(t, got[1], "web kept answering /readyz and the report")
	r.checkEveryone(web, id, 100)
}

// TestWorkerRestartResumes kills the only worker with SIGKILL mid-send,
// starts a new one, and checks that sending resumes within seconds and
// that nobody is missing.
func TestWorkerRestartResumes(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three processes and sends 20,000 messages")
	}
	t.Parallel()
	r := newProcRig(t, 20000, 4)
	_, web := r.start("web")
	w, _ := r.start("worker")
	id := r.launch(web)
	killed := r.killMidSend(w)
	atKill := r.sink.Count()

	r.start("worker")
	restarted := time.Now()
	require.Eventually(t, func() bool { return r.sink.Count() > atKill }, 2*time.Minute, 10*time.Millisecond)
	t.Logf("sending resumed %s after the new worker was up (%s after the kill)",
		time.Since(restarted).Round(100*time.Millisecond), time.Since(killed).Round(100*time.Millisecond))
	r.logRescue(w.Process.Pid, killed)
	r.waitFinished(web, id)
	t.Logf("finished %s after the kill", time.Since(killed).Round(100*time.Millisecond))
	r.checkEveryone(web, id, 100)
}
