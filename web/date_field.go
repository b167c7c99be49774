package web

import (
	"errors"
	"fmt"
	"strings"
	"time"

	jalaali "github.com/jalaali/go-jalaali"
)

// errDateFormat answers a date field that is not a date in the locale's
// format.
var errDateFormat = errors.New("not a date")

// DateLayout is how a date field (a goal's target date, a report's from
// and to) is written: the date input's "2006-01-02" in English, the Jalali
// "1405/09/15" (Persian or ASCII digits) in Persian.
func (l locale) DateLayout() string {
	if l.persian() {
		return "1405/09/15"
	}
	return "2006-01-02"
}

// DateValue is a calendar date as its field shows it: d is a time (its
// UTC date, as target dates are stored) or an ISO "2006-01-02" string;
// the Jalali date in Persian digits in Persian. Anything else is shown as
// it is, so a mistyped value stays in the field.
func (l locale) DateValue(d any) string {
	var v time.Time
	switch x := d.(type) {
	case string:
		t, err := time.Parse("2006-01-02", x)
		if err != nil {
			return x
		}
		v = t
	default:
		t, ok := when(d)
		if !ok {
			return ""
		}
		v = t.UTC()
	}
	if !l.persian() {
		return v.Format("2006-01-02")
	}
	return l.day(v)
}

// ParseDate reads a date field as the calendar date it names, at midnight
// UTC: "2006-01-02" in either language (what a browser's date picker
// sends), and in Persian a Jalali "1405/09/15" or "1405-09-15" in Persian
// or ASCII digits (a year before 1700 is a Solar Hijri one).
func (l locale) ParseDate(s string) (time.Time, error) {
	s = asciiDigits(strings.TrimSpace(s))
	if t, err := time.Parse("2006-01-02", s); err == nil && (!l.persian() || t.Year() >= 1700) {
		return t, nil
	}
	if !l.persian() {
		return time.Time{}, errDateFormat
	}
	var jy, jm, jd int
	var rest string
	n, _ := fmt.Sscanf(strings.ReplaceAll(s, "-", "/")+" .", "%d/%d/%d %s", &jy, &jm, &jd, &rest)
	if n != 4 || rest != "." || !jalaali.IsValidDate(jy, jm, jd) {
		return time.Time{}, errDateFormat
	}
	gy, gm, gd, err := jalaali.ToGregorian(jy, jalaali.Month(jm), jd)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: %w", errDateFormat, err)
	}
	return time.Date(gy, gm, gd, 0, 0, 0, 0, time.UTC), nil
}

// isoDate is s as the ISO date the API takes ("2006-01-02") when it is a
// date in the locale's format, else s unchanged (for the API's own check
// to word).
func (l locale) isoDate(s string) string {
	if strings.TrimSpace(s) == "" {
		return s
	}
	t, err := l.ParseDate(s)
	if err != nil {
		return s
	}
	return t.Format("2006-01-02")
}
