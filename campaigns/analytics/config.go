package analytics

import (
	"strings"
	"time"
)

// DefaultCurrency is Config.Currency's default, the same as
// campaigns.DefaultCurrency (this package cannot import campaigns, which
// reads its scores).
const DefaultCurrency = "EUR"

// Config tunes a recompute. The zero value takes every default.
type Config struct {
	// Now is the reference time of the scores (default: Clock()).
	Now time.Time
	// Clock gives Now when it is zero; the recompute worker reads it at
	// the start of each run (default time.Now).
	Clock func() time.Time
	// Currency is the currency of money in the scores (monetary, value):
	// the operator's default currency (PEYKAR_CURRENCY), default
	// DefaultCurrency. Purchases in other currencies count for recency and
	// frequency but add nothing to monetary or value.
	Currency string
	// HorizonDays is the horizon of the expected customer value (default 365).
	HorizonDays float64
	// MinTenureDays floors the tenure used for a purchase rate, so a buyer
	// of yesterday is not extrapolated to 365 purchases a year (default 30).
	MinTenureDays float64
	// PriorGaps is how many inter-purchase intervals the population mean
	// counts for when shrinking a contact's own mean interval (default 2).
	PriorGaps float64
	// DefaultTauDays is the mean interval used when no contact has two
	// purchases yet, and for contacts that never bought, whose clock is
	// their last engagement (default 30).
	DefaultTauDays float64
	// Clusters is k for k-means (default 5).
	Clusters int
	// SampleSize bounds the k-means fitting sample (default 50,000).
	SampleSize int
	// Seed makes k-means++ and the sample repeatable (default 1).
	Seed uint64
	// HoldoutCampaigns is how many of the most recent campaigns the
	// response model is evaluated on (default 1).
	HoldoutCampaigns int
	// AnomalyMinSent is the number of sent messages a campaign needs to be
	// judged or to count in the history (default 100).
	AnomalyMinSent int64
	// AnomalyMinHistory is how many earlier campaigns a judgement needs
	// (default 3).
	AnomalyMinHistory int
	// AnomalySigma is the flag threshold in standard deviations (default 3).
	AnomalySigma float64
	// AnomalyMinStddev floors the history's standard deviation so a few
	// identical campaigns do not flag every tiny difference (default 0.005).
	AnomalyMinStddev float64
}

// WithDefaults returns c with every zero field set to its default.
func (c Config) WithDefaults() Config {
	if c.Clock == nil {
		c.Clock = time.Now
	}
	if c.Now.IsZero() {
		c.Now = c.Clock()
	}
	def := func(v *float64, d float64) {
		if *v <= 0 {
			*v = d
		}
	}
	c.Currency = strings.ToUpper(strings.TrimSpace(c.Currency))
	if c.Currency == "" {
		c.Currency = DefaultCurrency
	}
	def(&c.HorizonDays, 365)
	def(&c.MinTenureDays, 30)
	def(&c.PriorGaps, 2)
	def(&c.DefaultTauDays, 30)
	def(&c.AnomalySigma, 3)
	def(&c.AnomalyMinStddev, 0.005)
	if c.Clusters <= 0 {
		c.Clusters = 5
	}
	if c.SampleSize <= 0 {
		c.SampleSize = 50000
	}
	if c.Seed == 0 {
		c.Seed = 1
	}
	if c.HoldoutCampaigns <= 0 {
		c.HoldoutCampaigns = 1
	}
	if c.AnomalyMinSent <= 0 {
		c.AnomalyMinSent = 100
	}
	if c.AnomalyMinHistory <= 0 {
		c.AnomalyMinHistory = 3
	}
	return c
}
