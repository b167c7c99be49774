package main

import (
	"context"
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/tracking"
)

func TestEventsRetentionConfig(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]time.Duration{
		"":      0,
		"400d":  400 * 24 * time.Hour,
		" 31d ": 31 * 24 * time.Hour,
		"9600h": 9600 * time.Hour,
	} {
		cfg, _, err := LoadConfig(nil, func(k string) string {
			return map[string]string{"PEYKAR_EVENTS_RETENTION": in}[k]
		}, io.Discard)
		require.NoError(t, err, in)
		require.Equal(t, want, cfg.eventsRetention, in)
	}
	for in, msg := range map[string]string{
		"30d":   "shorter than the least retention, 31d",
		"1y":    "not a retention such as 400d",
		"-400d": "not a number of days",
		"d":     "not a number of days",
		"24h":   "shorter than the least retention",
	} {
		_, _, err := LoadConfig([]string{"-events-retention", in}, func(string) string { return "" }, io.Discard)
		var ce *ConfigError
		require.True(t, errors.As(err, &ce), "%s: %v", in, err)
		require.Equal(t, "PEYKAR_EVENTS_RETENTION", ce.Var)
		require.Contains(t, ce.Msg, msg, in)
	}
}

// metricValue returns the value of the unlabelled metric name on /metrics
// (-1 when it is not there).
func metricValue(t *testing.T, m *Main, name string) float64 {
	t.Helper()
	_, body := get(t, m.URL()+"/metrics")
	for _, line := range strings.Split(body, "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			require.NoError(t, err, line)
			return f
		}
	}
	return -1
}

// TestEventsRetentionJobAndMetrics: a server with PEYKAR_EVENTS_RETENTION
// has this month and three ahead from its start; a month of events 14
// months old is dropped by the partition job; /metrics shows the count,
// the oldest and newest bounds, and the default partition's rows.
func TestEventsRetentionJobAndMetrics(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m := testMain(t, "PEYKAR_EVENTS_RETENTION", "400d")
	this := tracking.MonthStart(time.Now())
	completed := func(n int) {
		t.Helper()
		require.Eventually(t, func() bool {
			var have int
			err := m.pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = $1 AND state = 'completed'`,
				tracking.PartitionArgs{}.Kind()).Scan(&have)
			return err == nil && have >= n
		}, 2*time.Minute, 20*time.Millisecond, "the partition job did not complete %d times", n)
	}
	metrics := func() [4]float64 {
		return [4]float64{metricValue(t, m, "peykar_events_partitions"),
			metricValue(t, m, "peykar_events_partition_oldest_timestamp_seconds"),
			metricValue(t, m, "peykar_events_partition_newest_timestamp_seconds"),
			metricValue(t, m, "peykar_events_default_partition_rows")}
	}
	unix := func(t time.Time) float64 { return float64(t.Unix()) }
	completed(1) // the run at start
	// Months older than this one come from a template migrated in an
	// earlier month (a TEST_DATABASE_URL server keeps it): not this test's.
	_, err := tracking.DropExpiredPartitions(ctx, m.pool, this, time.Nanosecond)
	require.NoError(t, err)
	require.Equal(t, [4]float64{4, unix(this), unix(this.AddDate(0, 4, 0)), 0}, metrics())

	old := this.AddDate(0, -14, 0)
	_, err = tracking.EnsurePartitions(ctx, m.pool, old, 0)
	require.NoError(t, err)
	_, err = m.pool.Exec(ctx, `INSERT INTO events (delivery_id, campaign_id, step, contact_id, type, occurred_at)
		VALUES (1, 1, 'main', 1, 'open', $1), (1, 1, 'main', 1, 'open', $2)`, old.Add(time.Hour), this.AddDate(0, 6, 0))
	require.NoError(t, err)
	require.Equal(t, [4]float64{5, unix(old), unix(this.AddDate(0, 4, 0)), 1}, metrics())

	_, err = m.river.Insert(ctx, tracking.PartitionArgs{}, nil)
	require.NoError(t, err)
	completed(2)
	require.Equal(t, [4]float64{4, unix(this), unix(this.AddDate(0, 4, 0)), 1}, metrics(),
		"the old month is dropped; the row six months ahead waits in the default partition")
	var n int
	require.NoError(t, m.pool.QueryRow(ctx, `SELECT count(*) FROM events`).Scan(&n))
	require.Equal(t, 1, n)
}
