package timing

import (
	"strings"
	"unicode"
)

// country is a country's ISO 3166 alpha-2 code, its English name, its
// calling code and the zone its people are assumed to be in (for
// countries with several zones, the most populous one).
type country struct {
	code, name, calling, zone string
}

// countries is the inference table (docs/experiments.md lists it).
var countries = []country{
	{"IR", "Iran", "98", "Asia/Tehran"},
	{"US", "United States", "1", "America/New_York"},
	{"CA", "Canada", "", "America/Toronto"},
	{"GB", "United Kingdom", "44", "Europe/London"},
	{"DE", "Germany", "49", "Europe/Berlin"},
	{"FR", "France", "33", "Europe/Paris"},
	{"NL", "Netherlands", "31", "Europe/Amsterdam"},
	{"BE", "Belgium", "32", "Europe/Brussels"},
	{"ES", "Spain", "34", "Europe/Madrid"},
	{"IT", "Italy", "39", "Europe/Rome"},
	{"PT", "Portugal", "351", "Europe/Lisbon"},
	{"IE", "Ireland", "353", "Europe/Dublin"},
	{"CH", "Switzerland", "41", "Europe/Zurich"},
	{"AT", "Austria", "43", "Europe/Vienna"},
	{"SE", "Sweden", "46", "Europe/Stockholm"},
	{"NO", "Norway", "47", "Europe/Oslo"},
	{"DK", "Denmark", "45", "Europe/Copenhagen"},
	{"FI", "Finland", "358", "Europe/Helsinki"},
	{"PL", "Poland", "48", "Europe/Warsaw"},
	{"GR", "Greece", "30", "Europe/Athens"},
	{"TR", "Turkey", "90", "Europe/Istanbul"},
	{"RU", "Russia", "7", "Europe/Moscow"},
	{"UA", "Ukraine", "380", "Europe/Kyiv"},
	{"AM", "Armenia", "374", "Asia/Yerevan"},
	{"AZ", "Azerbaijan", "994", "Asia/Baku"},
	{"GE", "Georgia", "995", "Asia/Tbilisi"},
	{"AF", "Afghanistan", "93", "Asia/Kabul"},
	{"PK", "Pakistan", "92", "Asia/Karachi"},
	{"IN", "India", "91", "Asia/Kolkata"},
	{"IQ", "Iraq", "964", "Asia/Baghdad"},
	{"AE", "United Arab Emirates", "971", "Asia/Dubai"},
	{"SA", "Saudi Arabia", "966", "Asia/Riyadh"},
	{"QA", "Qatar", "974", "Asia/Qatar"},
	{"KW", "Kuwait", "965", "Asia/Kuwait"},
	{"BH", "Bahrain", "973", "Asia/Bahrain"},
	{"OM", "Oman", "968", "Asia/Muscat"},
	{"EG", "Egypt", "20", "Africa/Cairo"},
	{"ZA", "South Africa", "27", "Africa/Johannesburg"},
	{"NG", "Nigeria", "234", "Africa/Lagos"},
	{"CN", "China", "86", "Asia/Shanghai"},
	{"JP", "Japan", "81", "Asia/Tokyo"},
	{"KR", "South Korea", "82", "Asia/Seoul"},
	{"SG", "Singapore", "65", "Asia/Singapore"},
	{"ID", "Indonesia", "62", "Asia/Jakarta"},
	{"AU", "Australia", "61", "Australia/Sydney"},
	{"NZ", "New Zealand", "64", "Pacific/Auckland"},
	{"BR", "Brazil", "55", "America/Sao_Paulo"},
	{"MX", "Mexico", "52", "America/Mexico_City"},
	{"AR", "Argentina", "54", "America/Argentina/Buenos_Aires"},
}

// countryAliases are other names people write for a country.
var countryAliases = map[string]string{
	"usa": "US", "united states of america": "US", "america": "US",
	"uk": "GB", "great britain": "GB", "england": "GB",
	"uae": "AE", "emirates": "AE", "türkiye": "TR", "turkiye": "TR",
	"persia": "IR", "iran, islamic republic of": "IR", "ایران": "IR",
	"korea": "KR", "republic of korea": "KR", "holland": "NL",
}

var (
	byCode    = map[string]string{}
	byName    = map[string]string{}
	byCalling = map[string]string{}
)

func init() {
	for _, c := range countries {
		byCode[c.code] = c.zone
		byName[strings.ToLower(c.name)] = c.zone
		if c.calling != "" {
			byCalling[c.calling] = c.zone
		}
	}
	for alias, code := range countryAliases {
		byName[alias] = byCode[code]
	}
}

// CountryZone is the zone of a country given as an ISO 3166 alpha-2 code
// (any case) or a name; "" when the table does not know it.
func CountryZone(s string) string {
	s = strings.TrimSpace(s)
	if len(s) == 2 {
		if z := byCode[strings.ToUpper(s)]; z != "" {
			return z
		}
	}
	return byName[strings.ToLower(s)]
}

// PhoneZone is the zone of an international phone number's country
// calling code (the longest known prefix of 1 to 3 digits after + or 00;
// spaces, dots, dashes and brackets ignored); "" for a national number or
// an unknown code.
func PhoneZone(s string) string {
	var digits strings.Builder
	s = strings.TrimSpace(s)
	switch {
	case strings.HasPrefix(s, "+"):
		s = s[1:]
	case strings.HasPrefix(s, "00"):
		s = s[2:]
	default:
		return ""
	}
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits.WriteRune(r)
		case r == ' ' || r == '-' || r == '.' || r == '(' || r == ')' || unicode.IsSpace(r):
		default:
			return ""
		}
	}
	d := digits.String()
	if len(d) < 4 {
		return ""
	}
	for n := 3; n >= 1; n-- {
		if z := byCalling[d[:n]]; z != "" {
			return z
		}
	}
	return ""
}
