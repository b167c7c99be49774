package reports_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/campaigns"
)

// TestReportPageNumbersFromRawRows checks the live report page's progress,
// per-step results and goal value against target against direct counts
// over the deliveries: a finished campaign shows no rate, no ETA and
// nothing "left", and bounced deliveries are counted, not unexplained.
func TestReportPageNumbersFromRawRows(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	c := b.seed(t, 10, 5, campaigns.Goal{Name: "reach", When: "sent >= 20 && bounce_rate < 0.5"})
	b.launch(t, c)

	var sent, bounced, total int64
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE status IN ('sent', 'bounced')), count(*) FILTER (WHERE status = 'bounced'), count(*)
		FROM deliveries WHERE campaign_id = $1 AND step = 'main'`, c.ID).Scan(&sent, &bounced, &total))
	require.EqualValues(t, 2, bounced)

	code, body := b.body(t, "/campaigns/"+itoa(c.ID)+"/report.html")
	require.Equal(t, http.StatusOK, code, body)
	progress := fmt.Sprintf("%d sent of %d · %d bounced</p>", sent-bounced, total, bounced)
	require.Contains(t, body, progress)
	require.NotContains(t, body, "messages/s")
	require.NotContains(t, body, " left")
	require.NotContains(t, body, "done about")
	// Per step: main sent everything, the follow-up step nothing.
	require.Contains(t, body, fmt.Sprintf("<tr><td>main</td><td>%d</td><td>%d</td>", sent, sent-bounced))
	require.Contains(t, body, "<tr><td>offer</td><td>0</td><td>0</td>")
	// The goal's terms: the value now against the target.
	require.Contains(t, body, fmt.Sprintf("sent %d / &gt;= 20", sent))
	require.Contains(t, body, fmt.Sprintf("bounce_rate %s%% / &lt; 50%%", trimFloat(100*float64(bounced)/float64(sent))))
}

func trimFloat(f float64) string { return fmt.Sprintf("%g", float64(int64(f*100+0.5))/100) }
