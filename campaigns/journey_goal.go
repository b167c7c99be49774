package campaigns

import (
	"time"

	"github.com/peykar/peykar/tracking"
)

// PersonMetrics are one contact's numbers in a campaign, as if it had sent
// to them alone: sent, delivered, unique opens and clicks (human; total_*
// with machine traffic), unsubscribes, complaints and conversions are 0 or
// 1, and the rates follow (open_rate is 1 for a person who opened a
// delivered message). Repeat counts (opens, clicks beyond the first) and
// revenue are not kept per person: opens and clicks read as the unique
// counts, revenue as 0. A goal exit holds when its goal's predicate holds
// over these (docs/journeys.md).
func PersonMetrics(p tracking.Person) Metrics {
	one := func(b bool) int64 {
		if b {
			return 1
		}
		return 0
	}
	m := Metrics{
		Sent: one(p.Sent), Recipients: one(p.Sent), RecipientsBounced: one(p.Sent && !p.Delivered),
		UniqueOpens: one(p.Opened == 2), TotalUniqueOpens: one(p.Opened > 0),
		UniqueClicks: one(p.Clicked == 2), TotalUniqueClicks: one(p.Clicked > 0),
		Unsubscribes: one(p.Unsubscribed), Complaints: one(p.Complained),
		Conversions: one(p.Converted), Converted: one(p.Converted),
	}
	m.Bounced = m.RecipientsBounced
	m.Opens, m.TotalOpens = m.UniqueOpens, m.TotalUniqueOpens
	m.Clicks, m.TotalClicks = m.UniqueClicks, m.TotalUniqueClicks
	m.derive()
	return m
}

// GoalExitReached returns the first goal exit of c whose goal holds over
// m (a person's metrics), and whether one does. A goal that fails to
// evaluate does not hold.
func (c *Campaign) GoalExitReached(m Metrics, now time.Time) (string, bool) {
	for _, x := range c.Exit {
		if x.Goal == "" {
			continue
		}
		for i, g := range c.Goals {
			if g.Name == x.Goal && EvaluateGoal(i, g, m, now).Met {
				return g.Name, true
			}
		}
	}
	return "", false
}

// HasGoalExit reports whether any exit condition of c is a goal.
func (c *Campaign) HasGoalExit() bool {
	for _, x := range c.Exit {
		if x.Goal != "" {
			return true
		}
	}
	return false
}
