package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestJobTimeoutIsItsOwnSetting checks PEYKAR_JOB_TIMEOUT and
// PEYKAR_RESCUE_AFTER are read apart: changing one leaves the other alone.
func TestJobTimeoutIsItsOwnSetting(t *testing.T) {
	t.Parallel()
	load := func(args []string, env map[string]string) Config {
		t.Helper()
		cfg, _, err := LoadConfig(args, func(k string) string { return env[k] }, io.Discard)
		require.NoError(t, err)
		return cfg
	}
	cfg := load(nil, nil)
	require.Equal(t, 3*time.Minute, cfg.rescueAfter)
	require.Equal(t, 2*time.Minute, cfg.jobTimeout)

	cfg = load(nil, map[string]string{"PEYKAR_RESCUE_AFTER": "10m"})
	require.Equal(t, 10*time.Minute, cfg.rescueAfter)
	require.Equal(t, 2*time.Minute, cfg.jobTimeout, "the rescue delay no longer sets the job timeout")

	cfg = load(nil, map[string]string{"PEYKAR_RESCUE_AFTER": "10s", "PEYKAR_JOB_TIMEOUT": "8s"})
	require.Equal(t, 10*time.Second, cfg.rescueAfter)
	require.Equal(t, 8*time.Second, cfg.jobTimeout, "not half the rescue delay")

	cfg = load([]string{"--job-timeout", "5m", "--rescue-after", "6m"}, map[string]string{"PEYKAR_JOB_TIMEOUT": "1m"})
	require.Equal(t, 5*time.Minute, cfg.jobTimeout, "the flag overrides the environment")
	require.Equal(t, 6*time.Minute, cfg.rescueAfter)
}

// TestJobTimeoutMustBeShorterThanRescueAfter checks the process refuses to
// start (status 2) when River would rescue jobs that are still running, and
// names both settings.
func TestJobTimeoutMustBeShorterThanRescueAfter(t *testing.T) {
	t.Parallel()
	cases := []struct {
		env  map[string]string
		args []string
		want []string
	}{
		{env: map[string]string{"PEYKAR_RESCUE_AFTER": "10s"}, want: []string{"PEYKAR_RESCUE_AFTER (10s) must be longer than PEYKAR_JOB_TIMEOUT (2m0s)"}},
		{env: map[string]string{"PEYKAR_RESCUE_AFTER": "1m", "PEYKAR_JOB_TIMEOUT": "1m"}, want: []string{"PEYKAR_RESCUE_AFTER (1m0s)", "PEYKAR_JOB_TIMEOUT (1m0s)"}},
		{args: []string{"--job-timeout", "4m"}, want: []string{"PEYKAR_RESCUE_AFTER (3m0s)", "PEYKAR_JOB_TIMEOUT (4m0s)"}},
		{env: map[string]string{"PEYKAR_JOB_TIMEOUT": "soon"}, want: []string{`PEYKAR_JOB_TIMEOUT: "soon" must be a duration`}},
		{env: map[string]string{"PEYKAR_JOB_TIMEOUT": "500ms"}, want: []string{`PEYKAR_JOB_TIMEOUT: "500ms" must be a duration of at least 1s`}},
		{env: map[string]string{"PEYKAR_RESCUE_AFTER": "-3m"}, want: []string{`PEYKAR_RESCUE_AFTER: "-3m" must be a duration`}},
	}
	for _, tc := range cases {
		var stderr bytes.Buffer
		code := Run(context.Background(), tc.args, func(k string) string { return tc.env[k] }, os.Stdout, &stderr)
		require.Equal(t, 2, code, tc.want)
		require.Contains(t, stderr.String(), "invalid configuration: ")
		for _, w := range tc.want {
			require.Contains(t, stderr.String(), w)
		}
	}
}
