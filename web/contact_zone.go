package web

import "github.com/peykar/peykar/campaigns/timing"

// Zone is the contact's time zone as campaigns resolve it (send time and
// quiet hours), and where it came from, for the profile.
func (p contactPage) Zone() timing.Zone { return timing.Resolve(p.Attributes, "") }
