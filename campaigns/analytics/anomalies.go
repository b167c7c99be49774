package analytics

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/peykar/peykar/tracking"
)

// The campaign metrics watched for anomalies (industry definitions:
// delivered = sent − bounced).
var AnomalyMetrics = []string{"bounce_rate", "unsubscribe_rate", "open_rate", "click_rate"}

// Anomaly is a campaign metric far outside the history of earlier campaigns.
type Anomaly struct {
	CampaignID int64   `json:"campaign_id"`
	Metric     string  `json:"metric"`
	Value      float64 `json:"value"`
	Mean       float64 `json:"mean"`
	Stddev     float64 `json:"stddev"`
	// Z is (value − mean) / max(stddev, the configured floor).
	Z float64 `json:"z"`
	// History is how many earlier campaigns the mean and stddev came from.
	History    int       `json:"history"`
	ComputedAt time.Time `json:"computed_at"`
}

type running struct{ n, sum, sum2 float64 }

func (r *running) add(x float64) { r.n++; r.sum += x; r.sum2 += x * x }

func (r running) meanSD() (float64, float64) {
	m := r.sum / r.n
	v := (r.sum2 - r.n*m*m) / (r.n - 1)
	return m, math.Sqrt(max(v, 0))
}

func rate(n, d int64) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / float64(d)
}

// DetectAnomalies judges every campaign with at least cfg.AnomalyMinSent
// messages sent against the earlier such campaigns (at least
// cfg.AnomalyMinHistory of them): a metric more than cfg.AnomalySigma
// standard deviations from their mean is flagged. The flags replace those
// of the previous run. Campaigns are streamed in launch order with running
// sums, so memory stays flat in the number of campaigns.
func DetectAnomalies(ctx context.Context, db DBTX, cfg Config) ([]Anomaly, error) {
	cfg = cfg.WithDefaults()
	hist := make([]running, len(AnomalyMetrics))
	found := []Anomaly{}
	err := tracking.EachCampaignCounters(ctx, db, func(c tracking.CampaignCounters) error {
		if c.Sent < cfg.AnomalyMinSent {
			return nil
		}
		delivered := c.Sent - c.Bounced
		values := []float64{rate(c.Bounced, c.Sent), rate(c.Unsubscribes, delivered), rate(c.UniqueOpens, delivered), rate(c.UniqueClicks, delivered)}
		for i, v := range values {
			if int(hist[i].n) >= cfg.AnomalyMinHistory {
				mean, sd := hist[i].meanSD()
				z := (v - mean) / max(sd, cfg.AnomalyMinStddev)
				if math.Abs(z) > cfg.AnomalySigma {
					found = append(found, Anomaly{CampaignID: c.CampaignID, Metric: AnomalyMetrics[i], Value: roundTo(v, 6),
						Mean: roundTo(mean, 6), Stddev: roundTo(sd, 6), Z: roundTo(z, 3), History: int(hist[i].n), ComputedAt: cfg.Now})
				}
			}
			hist[i].add(v)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("analytics: campaign rates: %w", err)
	}
	if err := storeAnomalies(ctx, db, found); err != nil {
		return nil, err
	}
	return found, nil
}

// storeAnomalies upserts the flags and drops the ones no longer found.
func storeAnomalies(ctx context.Context, db DBTX, found []Anomaly) error {
	ids := make([]int64, len(found))
	metrics := make([]string, len(found))
	vals, means, sds, zs := make([]float64, len(found)), make([]float64, len(found)), make([]float64, len(found)), make([]float64, len(found))
	hist := make([]int32, len(found))
	var at time.Time
	for i, a := range found {
		ids[i], metrics[i], vals[i], means[i], sds[i], zs[i], hist[i], at = a.CampaignID, a.Metric, a.Value, a.Mean, a.Stddev, a.Z, int32(a.History), a.ComputedAt
	}
	if _, err := db.Exec(ctx, query("drop_old_anomalies"), ids, metrics); err != nil {
		return fmt.Errorf("analytics: drop old anomalies: %w", err)
	}
	if len(found) == 0 {
		return nil
	}
	if _, err := db.Exec(ctx, query("store_anomalies"),
		ids, metrics, vals, means, sds, zs, hist, at); err != nil {
		return fmt.Errorf("analytics: store anomalies: %w", err)
	}
	return nil
}
