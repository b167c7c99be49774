// Package settings decodes the parts of a campaign's settings document that
// more than one package reads: the UTM parameters and the conversion
// window. Package campaigns owns the document (it validates and stores
// it); tracking reads it on every click and conversion. campaigns imports
// tracking, so the one decoder lives in this leaf package, which imports
// nothing of Peykar's, and both use it: what campaigns refuses, tracking
// cannot accept.
package settings

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"time"
)

// DefaultConversionWindow is the conversion window of a campaign whose
// settings set none.
const DefaultConversionWindow = 7 * 24 * time.Hour

// ErrConversionWindow is returned for a conversion window that is not a
// positive Go duration.
var ErrConversionWindow = errors.New("must be a positive duration such as 168h")

// ParseConversionWindow parses settings.conversion_window: a positive Go
// duration ("168h"); "" means DefaultConversionWindow. Anything else, a
// number of days such as "7d" included, gives ErrConversionWindow.
func ParseConversionWindow(s string) (time.Duration, error) {
	if s == "" {
		return DefaultConversionWindow, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("conversion window %q: %w", s, ErrConversionWindow)
	}
	return d, nil
}

// UTM are the parameters appended to tracked links (settings.utm): as
// utm_source, utm_medium and utm_campaign, when set.
type UTM struct {
	Source   string `json:"source,omitempty"`
	Medium   string `json:"medium,omitempty"`
	Campaign string `json:"campaign,omitempty"`
}

// Apply returns dest with the UTM parameters added; parameters the URL
// already carries are kept as they are.
func (u UTM) Apply(dest string) string {
	if u == (UTM{}) {
		return dest
	}
	p, err := url.Parse(dest)
	if err != nil {
		return dest
	}
	q := p.Query()
	for k, v := range map[string]string{"utm_source": u.Source, "utm_medium": u.Medium, "utm_campaign": u.Campaign} {
		if v != "" && !q.Has(k) {
			q.Set(k, v)
		}
	}
	p.RawQuery = q.Encode()
	return p.String()
}

// Tracking is what tracking reads of a campaign's settings.
type Tracking struct {
	UTM              UTM
	ConversionWindow time.Duration
}

// DecodeTracking reads a stored settings document. It never fails: the
// document was validated when it was saved, and a click must redirect
// whatever it holds, so a part that does not decode (or a window
// ParseConversionWindow refuses) gives that part's default.
func DecodeTracking(raw []byte) Tracking {
	t := Tracking{ConversionWindow: DefaultConversionWindow}
	var doc struct {
		UTM              json.RawMessage `json:"utm"`
		ConversionWindow json.RawMessage `json:"conversion_window"`
	}
	if json.Unmarshal(raw, &doc) != nil {
		return t
	}
	var u UTM
	if len(doc.UTM) > 0 && json.Unmarshal(doc.UTM, &u) == nil {
		t.UTM = u
	}
	var s string
	if len(doc.ConversionWindow) > 0 && json.Unmarshal(doc.ConversionWindow, &s) == nil {
		if d, err := ParseConversionWindow(s); err == nil {
			t.ConversionWindow = d
		}
	}
	return t
}

// Throttle bounds, in messages per second: a campaign's
// throttle_per_second, and SMTP_URL's rate, are 0 (unlimited) or within
// them. Below the minimum a campaign would take months per thousand
// recipients; above the maximum no transport keeps up, and the send
// batches sized from the rate would overflow.
const (
	MinRatePerSecond = 0.01
	MaxRatePerSecond = 100000
)

// ValidRate reports whether r is 0 (unlimited) or a finite rate between
// MinRatePerSecond and MaxRatePerSecond. NaN and ±Inf fail it.
func ValidRate(r float64) bool {
	return r == 0 || (r >= MinRatePerSecond && r <= MaxRatePerSecond)
}

// RateMessage says what ValidRate accepts.
var RateMessage = fmt.Sprintf("must be 0 (unlimited) or from %g to %g messages per second", float64(MinRatePerSecond), float64(MaxRatePerSecond))
