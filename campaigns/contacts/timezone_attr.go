package contacts

import (
	"github.com/peykar/peykar/campaigns/timing"
	"github.com/peykar/peykar/internal/errs"
)

// checkTimezone refuses a timezone attribute (timing.Attribute) that is
// not an IANA zone name, naming the field: a recipient's local send time
// and quiet hours are computed in it. A missing (or, in a patch, null)
// attribute is fine: the zone is then inferred.
func checkTimezone(attrs map[string]any) error {
	v, ok := attrs[timing.Attribute]
	if !ok || v == nil {
		return nil
	}
	s, isString := v.(string)
	if !isString {
		return errs.Field("attributes."+timing.Attribute, "%s", timing.ErrZone.Error())
	}
	if _, err := timing.Load(s); err != nil {
		return errs.Field("attributes."+timing.Attribute, "%s", timing.ErrZone.Error())
	}
	return nil
}

// timezoneRejection is an import row's reason for a bad timezone column
// ("" when the value is a zone).
func timezoneRejection(v string) string {
	if _, err := timing.Load(v); err != nil {
		return timing.Attribute + ": " + timing.ErrZone.Error()
	}
	return ""
}
