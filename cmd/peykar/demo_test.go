package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/internal/auth"
	"github.com/peykar/peykar/internal/errs"
)

// TestDemo runs the demo against a fresh database with a small audience and
// a short simulation, then reads the campaign's report through the API.
func TestDemo(t *testing.T) {
	t.Parallel()
	m := testMain(t)
	ctx := context.Background()
	var out bytes.Buffer
	m.Stdout = &out
	d, err := m.Demo(ctx, demoOptions{Contacts: 300, Duration: 15 * time.Second})
	require.NoError(t, err, out.String())
	t.Log(out.String())
	require.Equal(t, 300, d.Audience.Contacts)
	require.Positive(t, d.Audience.Purchases)
	var live int
	require.NoError(t, m.pool.QueryRow(ctx, `SELECT count(*) FROM api_tokens WHERE name = 'peykar demo' AND revoked_at IS NULL`).Scan(&live))
	require.Zero(t, live, "the demo revokes its API token when it ends")

	token := testToken(t, m, auth.RoleManager)
	id := strconv.FormatInt(d.CampaignID, 10)
	var report struct {
		Metrics struct {
			Sent        int64 `json:"sent"`
			Opens       int64 `json:"opens"`
			Clicks      int64 `json:"clicks"`
			TotalClicks int64 `json:"total_clicks"`
		} `json:"metrics"`
		Goals []struct {
			Name string `json:"name"`
			Met  *bool  `json:"met"`
		} `json:"goals"`
	}
	code, body := do(t, m, http.MethodGet, "/api/v1/campaigns/"+id+"/report", token, nil)
	require.Equal(t, http.StatusOK, code, body)
	require.NoError(t, json.Unmarshal([]byte(body), &report))
	require.Positive(t, report.Metrics.Sent, body)
	require.Positive(t, report.Metrics.Opens, body)
	require.Positive(t, report.Metrics.Clicks, "human clicks: %s", body)
	require.Greater(t, report.Metrics.TotalClicks, report.Metrics.Clicks, "machine clicks count in total_clicks only: %s", body)
	require.Len(t, report.Goals, 2, body)
	for _, g := range report.Goals {
		require.NotNil(t, g.Met, "goal %q has met true or false: %s", g.Name, body)
	}

	// The pricing click follow-up fired (its job runs right after the click).
	require.Eventually(t, func() bool {
		var rules struct {
			Items []struct {
				Name  string `json:"name"`
				On    string `json:"on"`
				Fired int64  `json:"fired"`
			} `json:"items"`
		}
		code, body := do(t, m, http.MethodGet, "/api/v1/campaigns/"+id+"/rules", token, nil)
		require.Equal(t, http.StatusOK, code, body)
		require.NoError(t, json.Unmarshal([]byte(body), &rules))
		for _, r := range rules.Items {
			if r.On == "click" && r.Fired > 0 {
				return true
			}
		}
		return false
	}, 30*time.Second, 200*time.Millisecond)

	// The analytics were recomputed for the demo's audience.
	require.Eventually(t, func() bool {
		var summary struct {
			Contacts int64 `json:"contacts"`
		}
		code, body := do(t, m, http.MethodGet, "/api/v1/analytics/summary", token, nil)
		require.Equal(t, http.StatusOK, code, body)
		require.NoError(t, json.Unmarshal([]byte(body), &summary))
		return summary.Contacts > 0
	}, 30*time.Second, 200*time.Millisecond)

	// A second run refuses the database that now holds the demo.
	_, err = m.Demo(ctx, demoOptions{Contacts: 10, Duration: 5 * time.Second})
	require.True(t, errs.Is(err, errs.Conflict), "got %v", err)
	require.Contains(t, err.Error(), "--force")
}

func TestDemoFlags(t *testing.T) {
	t.Parallel()
	o, err := parseDemoFlags(nil, io.Discard)
	require.NoError(t, err)
	require.Equal(t, demoOptions{Contacts: 10000, Duration: 2 * time.Minute}, o)
	o, err = parseDemoFlags([]string{"--force", "--contacts", "500", "--duration", "30s"}, io.Discard)
	require.NoError(t, err)
	require.Equal(t, demoOptions{Force: true, Contacts: 500, Duration: 30 * time.Second}, o)
	for _, args := range [][]string{{"--contacts", "0"}, {"--duration", "1s"}, {"extra"}, {"--nope"}} {
		var stderr bytes.Buffer
		_, err := parseDemoFlags(args, &stderr)
		require.ErrorIs(t, err, errUsage, "%v", args)
		require.NotEmpty(t, stderr.String(), "%v", args)
	}
}
