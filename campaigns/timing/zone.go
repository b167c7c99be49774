package timing

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // zones resolve the same on every machine, with or without system tzdata
)

// Attribute is the contact attribute that holds a recipient's IANA time
// zone (an import column of that name fills it).
const Attribute = "timezone"

// Where a Zone came from.
const (
	SourceAttribute = "attribute" // the contact's timezone attribute
	SourceCountry   = "country"   // inferred from the country attribute
	SourcePhone     = "phone"     // inferred from the phone's calling code
	SourceCampaign  = "campaign"  // the campaign's default_timezone
	SourceDefault   = "default"   // nothing known: UTC
)

// ErrZone is returned for a time zone that is not an IANA name.
var ErrZone = errors.New("must be an IANA time zone name such as Asia/Tehran or America/New_York")

var zones sync.Map // name → *time.Location

// Load returns the location named name (an IANA name such as Asia/Tehran;
// "UTC" too). Loaded locations are cached: time.LoadLocation parses the
// zone database on every call. "" and "Local" (this machine's zone, which
// differs between machines) are refused.
func Load(name string) (*time.Location, error) {
	if l, ok := zones.Load(name); ok {
		return l.(*time.Location), nil
	}
	if name == "" || name == "Local" || strings.TrimSpace(name) != name {
		return nil, fmt.Errorf("%q: %w", name, ErrZone)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("%q: %w", name, ErrZone)
	}
	zones.Store(name, loc)
	return loc, nil
}

// Zone is a recipient's time zone and where it came from.
type Zone struct {
	Loc *time.Location
	// Source is one of the Source* constants.
	Source string
	// From is what the zone was inferred from (the country or the phone
	// attribute's value), for "inferred from …" on the contact page.
	From string
}

// Name is the zone's IANA name.
func (z Zone) Name() string { return z.Loc.String() }

// Resolve finds a recipient's zone from the contact's attributes: the
// timezone attribute when it names a zone; else the zone of the country
// attribute (ISO 3166 alpha-2 code or English name); else the zone of the
// phone (or mobile) attribute's country calling code, for numbers written
// with + or 00; else campaignDefault when it names a zone; else UTC.
// Countries and calling codes spanning several zones map to their most
// populous one (docs/experiments.md has the table).
func Resolve(attrs map[string]any, campaignDefault string) Zone {
	if s, ok := attrs[Attribute].(string); ok {
		if loc, err := Load(s); err == nil {
			return Zone{Loc: loc, Source: SourceAttribute}
		}
	}
	if s, ok := attrs["country"].(string); ok {
		if name := CountryZone(s); name != "" {
			if loc, err := Load(name); err == nil {
				return Zone{Loc: loc, Source: SourceCountry, From: s}
			}
		}
	}
	for _, k := range []string{"phone", "mobile"} {
		s, ok := attrs[k].(string)
		if !ok {
			continue
		}
		if name := PhoneZone(s); name != "" {
			if loc, err := Load(name); err == nil {
				return Zone{Loc: loc, Source: SourcePhone, From: s}
			}
		}
	}
	if loc, err := Load(campaignDefault); err == nil {
		return Zone{Loc: loc, Source: SourceCampaign}
	}
	return Zone{Loc: time.UTC, Source: SourceDefault}
}
