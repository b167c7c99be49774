package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/internal/auth"
	"github.com/peykar/peykar/internal/factory"
	"github.com/peykar/peykar/internal/smtptest"
	"github.com/peykar/peykar/migrations/pgtest"
)

// childEnv marks a re-executed test binary that should run peykar itself.
const childEnv = "PEYKAR_TEST_CHILD"

// startChild runs this test binary as `peykar serve` and returns the
// process and the URL it serves.
func startChild(t *testing.T, env []string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), append(env, childEnv+"=1")...)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if _, url, ok := strings.Cut(sc.Text(), " is serving at "); ok {
				urls <- url
			}
		}
	}()
	select {
	case url := <-urls:
		return cmd, url
	case <-time.After(60 * time.Second):
		t.Fatalf("peykar did not start: %s", stderr.String())
		return nil, ""
	}
}

// postJSON posts body to url with the API token and decodes the answer into out.
func postJSON(t *testing.T, url, token string, body any, out any) {
	t.Helper()
	b, err := json.Marshal(body)
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(b))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var raw json.RawMessage
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&raw))
	require.Less(t, resp.StatusCode, 300, "%s: %s", url, raw)
	if out != nil {
		require.NoError(t, json.Unmarshal(raw, out))
	}
}

// TestCrashMidSendLosesNobody kills peykar with SIGKILL in the middle of a
// 20,000-recipient campaign, restarts it, and checks against the SMTP
// server's log that everyone received the message, that duplicates stay
// within the in-flight window, and that the report agrees.
func TestCrashMidSendLosesNobody(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test sends 20,000 messages")
	}
	t.Parallel()
	const n = 20000
	const pool = 4
	// In flight at a kill: every running send job's current chunk
	// (send workers = 2 × pool, 50 deliveries a chunk).
	const window = 2 * pool * 50
	ctx := context.Background()
	dsn := pgtest.NewDSN(t)
	sink, err := smtptest.Start(smtptest.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { sink.Close() })
	env := []string{
		"DATABASE_URL=" + dsn,
		fmt.Sprintf("SMTP_URL=smtp://127.0.0.1:%d?tls=none&pool=%d", sink.Port(), pool),
		"PEYKAR_ADDR=127.0.0.1:0",
		"PEYKAR_DATA_DIR=" + t.TempDir(),
		"PEYKAR_SECRET=crash-test-secret-crash-test-secret",
		// The dead process's jobs are rescued after 8 s. The job timeout
		// must be shorter; it is long enough that a send job (200
		// deliveries) finishes on a busy machine: a job cut by its timeout
		// resends its current chunk, which is not what this test measures.
		"PEYKAR_RESCUE_AFTER=8s",
		"PEYKAR_JOB_TIMEOUT=6s",
		"PEYKAR_LOG_LEVEL=warn",
	}
	first, url := startChild(t, env)

	db, err := pgxpool.New(ctx, dsn)
	require.NoError(t, err)
	defer db.Close()
	// Raw on purpose: n contacts in one set-based statement.
	_, err = db.Exec(ctx, `INSERT INTO contacts (email, name) SELECT 'r' || i || '@example.com', 'R ' || i FROM generate_series(1, $1) i`, n)
	require.NoError(t, err)
	segID := factory.Segment(t, db, factory.SegmentName("all")).ID
	_, token, err := auth.CreateToken(ctx, db, "crash test", auth.RoleMarketer, 0)
	require.NoError(t, err)
	tplID := factory.Template(t, db, factory.Subject("Hi {{ .Contact.Name }}"), factory.HTML(`<p>Hi</p><a href="https://shop.example/">shop</a><p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p>`)).ID

	var c struct {
		ID     int64  `json:"id"`
		Status string `json:"status"`
	}
	postJSON(t, url+"/api/v1/campaigns", token, map[string]any{
		"name": "crash", "segment_id": segID, "channel": "email",
		"from":  map[string]string{"name": "Shop", "email": "news@shop.example"},
		"steps": []map[string]any{{"key": "main", "template_id": tplID}},
	}, &c)
	postJSON(t, fmt.Sprintf("%s/api/v1/campaigns/%d/launch", url, c.ID), token, nil, nil)

	require.Eventually(t, func() bool { return sink.Count() >= n/4 }, 2*time.Minute, 5*time.Millisecond)
	require.NoError(t, first.Process.Kill()) // SIGKILL: no shutdown at all
	_, _ = first.Process.Wait()
	atKill := sink.Count()
	t.Logf("killed after %d messages", atKill)
	require.Less(t, atKill, n, "the kill landed mid-send")

	_, url = startChild(t, env)
	require.Eventually(t, func() bool {
		resp, err := getAuth(fmt.Sprintf("%s/api/v1/campaigns/%d", url, c.ID), token)
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		var got struct{ Status string }
		_ = json.NewDecoder(resp.Body).Decode(&got)
		return got.Status == "finished"
	}, 3*time.Minute, 100*time.Millisecond)

	received := map[string]int{}
	for _, m := range sink.Messages() {
		received[m.To[0]]++
	}
	require.Len(t, received, n, "every recipient received the message")
	dups := sink.Count() - n
	t.Logf("total %d messages, %d duplicates (window %d)", sink.Count(), dups, window)
	require.LessOrEqual(t, dups, window, "duplicates stay within the in-flight window")

	var report struct {
		Metrics struct {
			Sent int `json:"sent"`
		} `json:"metrics"`
		Progress struct {
			Total int `json:"total"`
		} `json:"progress"`
	}
	resp, err := getAuth(fmt.Sprintf("%s/api/v1/campaigns/%d/report", url, c.ID), token)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&report))
	require.Equal(t, n, report.Metrics.Sent, "the report's sent equals the recipients received")
	require.Equal(t, n, report.Progress.Total)
}
