package reports_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/campaigns"
	"github.com/peykar/peykar/campaigns/reports"
	"github.com/peykar/peykar/internal/factory"
)

func TestStandardReportAndCompare(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	c := b.seed(t, 40, 7)
	b.launch(t, c)
	generateEvents(t, b, c)
	r, err := b.svc.Report(ctx, c.ID)
	require.NoError(t, err)

	today := time.Now().UTC()
	from := today.AddDate(0, 0, -1).Format(time.DateOnly)
	to := today.AddDate(0, 0, 2).Format(time.DateOnly)
	for _, seg := range []string{"", "&segment_id=" + itoa(*c.SegmentID)} {
		code, body := b.body(t, "/reports/standard?from="+from+"&to="+to+seg)
		require.Equal(t, http.StatusOK, code, body)
		var s reports.Standard
		require.NoError(t, json.Unmarshal([]byte(body), &s))
		require.Len(t, s.Days, 4)
		require.Equal(t, []int64{c.ID}, s.Campaigns)
		var active int64
		require.NoError(t, b.pool.QueryRow(ctx, `SELECT count(*) FROM contacts WHERE status = 'active'`).Scan(&active))
		require.Equal(t, active, s.Audience.Size, "no suppression list here: the sendable are the active")
		// Created counts every contact added, bounced and unsubscribed too.
		require.EqualValues(t, 40, s.Audience.Created)
		require.Equal(t, r.Metrics.Sent, s.Deliverability.Sent)
		require.Equal(t, r.Metrics.Bounced, s.Deliverability.Bounced)
		require.Equal(t, r.Metrics.Complaints, s.Deliverability.Complaints)
		require.Equal(t, r.Metrics.Opens, s.Engagement.Opens)
		require.Equal(t, r.Metrics.Clicks, s.Engagement.Clicks)
		require.Equal(t, r.Metrics.UniqueOpens, s.Engagement.UniqueOpens)
		require.Equal(t, r.Metrics.Unsubscribes, s.Unsubscribes.Count)
		require.Equal(t, r.Metrics.Conversions, s.Revenue.Conversions)
		require.InDelta(t, r.Metrics.Revenue, s.Revenue.Attributed, 1e-6)
		require.InDelta(t, r.Metrics.Revenue, s.Revenue.Total, 1e-6)
		require.InDelta(t, r.Metrics.BounceRate, s.Deliverability.BounceRate, 1e-12)
		var opens int64
		for _, d := range s.Days {
			opens += d.Opens
		}
		require.Equal(t, r.Metrics.Opens, opens)

		recs := readCSV(t, b, "/reports/standard.csv?bom=1&from="+from+"&to="+to+seg)
		require.Len(t, recs, 5)
		require.Equal(t, "date", recs[0][0])
	}
	// A segment no campaign was sent to, and nobody matches.
	empty := factory.Segment(t, b.pool, factory.SegmentName("none"), factory.Rule(`contact.name == "nobody"`)).ID
	code, body := b.body(t, "/reports/standard?from="+from+"&to="+to+"&segment_id="+itoa(empty))
	require.Equal(t, http.StatusOK, code, body)
	var s reports.Standard
	require.NoError(t, json.Unmarshal([]byte(body), &s))
	require.Empty(t, s.Campaigns)
	require.Zero(t, s.Audience.Size)
	require.Zero(t, s.Deliverability.BounceRate)
	require.NotContains(t, body, "NaN")

	code, body = b.body(t, "/reports/standard?from=yesterday")
	require.Equal(t, http.StatusUnprocessableEntity, code, body)
	require.Contains(t, body, `"field":"from"`)
	code, _ = b.body(t, "/reports/standard?from=2026-02-01&to=2026-01-01")
	require.Equal(t, http.StatusUnprocessableEntity, code)

	// Compare.
	c2 := campaigns.Campaign{Name: "Other", Steps: []campaigns.Step{}}
	require.NoError(t, b.svc.Create(ctx, &c2))
	code, body = b.body(t, "/reports/compare?ids="+itoa(c.ID)+","+itoa(c2.ID))
	require.Equal(t, http.StatusOK, code, body)
	var cmp struct {
		Items []campaigns.Report `json:"items"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &cmp))
	require.Len(t, cmp.Items, 2)
	require.Equal(t, c.ID, cmp.Items[0].CampaignID)
	require.Equal(t, r.Metrics.Opens, cmp.Items[0].Metrics.Opens)
	require.Equal(t, c2.ID, cmp.Items[1].CampaignID)
	code, body = b.body(t, "/reports/compare?ids="+itoa(c.ID)+",x")
	require.Equal(t, http.StatusUnprocessableEntity, code)
	require.Contains(t, body, `"position":2`)
	code, _ = b.body(t, "/reports/compare?ids=999999")
	require.Equal(t, http.StatusNotFound, code)
}
