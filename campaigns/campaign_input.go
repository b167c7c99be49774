package campaigns

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/peykar/peykar/campaigns/settings"
	"github.com/peykar/peykar/internal/errs"
	"github.com/peykar/peykar/internal/safetext"
)

// The sending rate's bounds (settings.MinRatePerSecond, MaxRatePerSecond).
const (
	MinRatePerSecond = settings.MinRatePerSecond
	MaxRatePerSecond = settings.MaxRatePerSecond
)

// maxFromNameLen bounds a sender's display name, in characters.
const maxFromNameLen = 200

// ValidRate reports whether r is 0 (unlimited) or a finite rate between
// MinRatePerSecond and MaxRatePerSecond (settings.ValidRate).
func ValidRate(r float64) bool { return settings.ValidRate(r) }

// RateMessage says what ValidRate accepts.
var RateMessage = settings.RateMessage

func checkThrottle(r float64) error {
	if !ValidRate(r) { // NaN and ±Inf fail it too
		return errs.Field("throttle_per_second", "%s", RateMessage)
	}
	return nil
}

// normalizeText checks the campaign's text where it enters: the name and
// the sender's name go into message headers (a subject may show the
// campaign's name), so they are one line; no string of the campaign, down
// to its rules' actions, holds a NUL byte, which PostgreSQL cannot store.
func (c *Campaign) normalizeText() error {
	if err := safetext.Line("name", c.Name); err != nil {
		return err
	}
	c.From.Name = strings.TrimSpace(c.From.Name)
	if err := safetext.Line("from.name", c.From.Name); err != nil {
		return err
	}
	if utf8.RuneCountInString(c.From.Name) > maxFromNameLen {
		return errs.Field("from.name", "is longer than %d characters", maxFromNameLen)
	}
	for i, r := range c.Rules {
		for j, a := range r.Actions {
			if err := safetext.Line(fmt.Sprintf("rules[%d].actions[%d].tag", i, j), a.Tag); err != nil {
				return err // a tag is one line, as on a contact
			}
		}
	}
	b, err := json.Marshal(struct {
		Rules    []Rule   `json:"rules"`
		Goals    []Goal   `json:"goals"`
		Settings Settings `json:"settings"`
	}{c.Rules, c.Goals, c.Settings})
	if err != nil {
		return fmt.Errorf("campaign: encode: %w", err)
	}
	return safetext.JSON(b)
}
