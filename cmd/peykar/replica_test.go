package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/internal/auth"
	"github.com/peykar/peykar/migrations/pgtest"
)

// replicaMain starts Main on the primary of pair with PEYKAR_REPLICA_URL
// on its standby and a 100 ms probe; kv are more environment variables as
// name, value pairs. The bound is a generous 30 s: on a loaded machine a
// probe can come late, and these tests are about routing, not lag
// (internal/replica tests the lag fallback with a 1 s bound).
func replicaMain(t *testing.T, pair *pgtest.Replica, kv ...string) *Main {
	t.Helper()
	env := map[string]string{
		"DATABASE_URL": pair.PrimaryDSN, "PEYKAR_REPLICA_URL": pair.ReplicaDSN, "PEYKAR_REPLICA_MAX_LAG": "30s",
		"PEYKAR_ADDR": "127.0.0.1:0", "PEYKAR_DATA_DIR": t.TempDir(), "PEYKAR_BASE_URL": "http://peykar.test",
	}
	for i := 0; i+1 < len(kv); i += 2 {
		env[kv[i]] = kv[i+1]
	}
	cfg, _, err := LoadConfig(nil, func(k string) string { return env[k] }, io.Discard)
	require.NoError(t, err)
	m := NewMain(cfg, io.Discard, testWriter{t})
	m.replicaInterval = 100 * time.Millisecond
	require.NoError(t, m.Run(context.Background()))
	t.Cleanup(func() { require.NoError(t, m.Close()) })
	return m
}

// apiGet is GET path with the token: status, the Peykar-Data-Age header and
// the body.
func apiGet(t *testing.T, m *Main, path, token string, header ...string) (int, string, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, m.URL()+path, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, resp.Header.Get("Peykar-Data-Age"), string(b)
}

// poll retries cond until it holds or a deadline passes.
func poll(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(45 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		select {
		case <-time.After(25 * time.Millisecond):
		case <-t.Context().Done():
			t.Fatal(t.Context().Err())
		}
	}
}

var dataAge = regexp.MustCompile(`^[0-9]+s$`)

// TestReplicaServesReports runs peykar over a real primary and streaming
// standby: the report API, its CSV, segment counts and the live report
// page are read from the replica (the Peykar-Data-Age header, as_of, "as
// of N s ago" in English and Persian, reads counted by target on
// /metrics), a change on the primary reaches a replica-served report
// within the bound, and with the standby stopped everything still answers
// from the primary, with no age, while /metrics says the replica is down.
func TestReplicaServesReports(t *testing.T) {
	t.Parallel()
	pair := pgtest.NewReplica(t)
	m := replicaMain(t, pair)
	token := testToken(t, m, auth.RoleAdmin)

	seg, cp := replicaCampaign(t, m, token)
	campaign := replicaCampaignBody(seg, cp.tpl)
	report := fmt.Sprintf("/api/v1/campaigns/%d/report", cp.ID)

	// The campaign written on the primary reaches a replica-served report.
	var age string
	poll(t, "the report to be served from the replica", func() bool {
		code, a, _ := apiGet(t, m, report, token)
		age = a
		return code == http.StatusOK && a != ""
	})
	require.Regexp(t, dataAge, age)
	code, _, body := apiGet(t, m, report, token)
	require.Equal(t, http.StatusOK, code, body)
	var rep struct {
		Name string     `json:"name"`
		AsOf *time.Time `json:"as_of"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &rep))
	require.Equal(t, "replicated", rep.Name)
	require.NotNil(t, rep.AsOf, "a replica-served report says what its data is as of")

	// A change on the primary appears in the replica-served report.
	campaign["name"] = "renamed"
	code, body = do(t, m, http.MethodPut, fmt.Sprintf("/api/v1/campaigns/%d", cp.ID), token, campaign)
	require.Equal(t, http.StatusOK, code, body)
	poll(t, "the rename to reach a replica-served report", func() bool {
		code, a, body := apiGet(t, m, report, token)
		return code == http.StatusOK && a != "" && strings.Contains(body, `"name":"renamed"`) && strings.Contains(body, `"as_of":`)
	})

	// Launched and sent on the primary; the replica-served report follows.
	code, body = do(t, m, http.MethodPost, "/api/v1/contacts", token, map[string]any{"email": "sara@example.com"})
	require.Equal(t, http.StatusCreated, code, body)
	code, body = do(t, m, http.MethodPost, fmt.Sprintf("/api/v1/campaigns/%d/launch", cp.ID), token, nil)
	require.Equal(t, http.StatusOK, code, body)
	poll(t, "the send to reach a replica-served report", func() bool {
		code, a, body := apiGet(t, m, report, token)
		return code == http.StatusOK && a != "" && strings.Contains(body, `"status":"finished"`) && strings.Contains(body, `"progress":{"total":1,`)
	})

	for _, path := range []string{fmt.Sprintf("/api/v1/campaigns/%d/report.csv", cp.ID), fmt.Sprintf("/api/v1/segments/%d/count", seg), "/api/v1/reports/standard"} {
		poll(t, path+" from the replica", func() bool {
			code, a, _ := apiGet(t, m, path, token)
			return code == http.StatusOK && dataAge.MatchString(a)
		})
	}
	live := fmt.Sprintf("/admin/campaigns/%d/live", cp.ID)
	poll(t, "the live report to say its data's age", func() bool {
		code, _, page := apiGet(t, m, live, token)
		return code == http.StatusOK && regexp.MustCompile(`<p class="hint" id="data-age" title="[^"]+">as of [0-9]+ s ago</p>`).MatchString(page)
	})
	poll(t, "the campaign page to say its numbers' age", func() bool {
		code, _, page := apiGet(t, m, fmt.Sprintf("/admin/campaigns/%d", cp.ID), token)
		return code == http.StatusOK && regexp.MustCompile(`id="data-age"[^>]*>as of [0-9]+ s ago</p>`).MatchString(page)
	})
	poll(t, "the Persian live report to say its data's age", func() bool {
		code, _, page := apiGet(t, m, live, token, "Accept-Language", "fa")
		return code == http.StatusOK && regexp.MustCompile(`id="data-age"[^>]*>به‌روز تا [۰-۹]+ ثانیه پیش</p>`).MatchString(page)
	})
	_, metrics := get(t, m.URL()+"/metrics")
	require.Contains(t, metrics, "peykar_replica_up 1")
	require.Regexp(t, `peykar_replica_reads_total\{target="replica"\} [1-9]`, metrics)
	require.Contains(t, metrics, "peykar_replica_lag_seconds ")

	// The standby goes away: everything answers from the primary, exact now.
	pair.StopReplica(t)
	poll(t, "/metrics to say the replica is down", func() bool {
		_, metrics := get(t, m.URL()+"/metrics")
		return strings.Contains(metrics, "peykar_replica_up 0")
	})
	for _, path := range []string{report, fmt.Sprintf("/api/v1/campaigns/%d/report.csv", cp.ID), fmt.Sprintf("/api/v1/segments/%d/count", seg), "/api/v1/reports/standard"} {
		code, a, body := apiGet(t, m, path, token)
		require.Equal(t, http.StatusOK, code, "%s: %s", path, body)
		require.Empty(t, a, "%s is exact now: no data age", path)
		require.NotContains(t, body, `"as_of"`)
	}
	for _, path := range []string{live, fmt.Sprintf("/admin/campaigns/%d", cp.ID)} {
		code, _, page := apiGet(t, m, path, token)
		require.Equal(t, http.StatusOK, code)
		require.NotContains(t, page, `id="data-age"`, "%s from the primary states no age", path)
	}
	_, metrics = get(t, m.URL()+"/metrics")
	require.Regexp(t, `peykar_replica_reads_total\{target="primary"\} [1-9]`, metrics)
	require.Regexp(t, `peykar_replica_fallbacks_total [1-9]`, metrics)
}

// TestReplicaConfiguration: a bad PEYKAR_REPLICA_URL or
// PEYKAR_REPLICA_MAX_LAG stops the start with the variable's name; unset,
// the bound is 10 s.
func TestReplicaConfiguration(t *testing.T) {
	t.Parallel()
	for env, want := range map[string]string{
		"PEYKAR_REPLICA_URL":     "PEYKAR_REPLICA_URL: not a valid PostgreSQL URL",
		"PEYKAR_REPLICA_MAX_LAG": "PEYKAR_REPLICA_MAX_LAG: \"soon\" must be a duration of at least 1s",
	} {
		vals := map[string]string{"PEYKAR_REPLICA_URL": "postgres://x:badport/db", "PEYKAR_REPLICA_MAX_LAG": "soon"}
		getenv := func(k string) string {
			if k == env {
				return vals[k]
			}
			return ""
		}
		var stderr strings.Builder
		code := Run(context.Background(), nil, getenv, io.Discard, &stderr)
		require.Equal(t, 2, code, want)
		require.Contains(t, stderr.String(), "invalid configuration: "+want)
	}
	cfg, _, err := LoadConfig(nil, func(string) string { return "" }, io.Discard)
	require.NoError(t, err)
	require.Equal(t, 10*time.Second, cfg.maxLag)
}

type replicaIDs struct{ ID, tpl int64 }

// replicaCampaign creates a segment, a template and a draft campaign
// through the API (on the primary).
func replicaCampaign(t *testing.T, m *Main, token string) (seg int64, cp replicaIDs) {
	t.Helper()
	code, body := do(t, m, http.MethodPost, "/api/v1/segments", token, map[string]any{"name": "all", "rule": `contact.email endsWith "@example.com"`})
	require.Equal(t, http.StatusCreated, code, body)
	var s, tpl struct{ ID int64 }
	require.NoError(t, json.Unmarshal([]byte(body), &s))
	code, body = do(t, m, http.MethodPost, "/api/v1/templates", token, map[string]any{"name": "t", "subject": "Hi", "html": `<p>Hi</p><p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p>`})
	require.Equal(t, http.StatusCreated, code, body)
	require.NoError(t, json.Unmarshal([]byte(body), &tpl))
	code, body = do(t, m, http.MethodPost, "/api/v1/campaigns", token, replicaCampaignBody(s.ID, tpl.ID))
	require.Equal(t, http.StatusCreated, code, body)
	require.NoError(t, json.Unmarshal([]byte(body), &cp))
	cp.tpl = tpl.ID
	return s.ID, cp
}

func replicaCampaignBody(seg, tpl int64) map[string]any {
	return map[string]any{"name": "replicated", "segment_id": seg, "channel": "email",
		"from": map[string]string{"name": "Shop", "email": "news@shop.example"}, "steps": []map[string]any{{"key": "main", "template_id": tpl}}}
}
