package web

import (
	"errors"
	"fmt"
	"strings"
	"time"

	jalaali "github.com/jalaali/go-jalaali"
)

// errScheduleFormat answers a schedule that is not a date and time in the
// locale's format.
var errScheduleFormat = errors.New("not a date and time")

// ScheduleLayout is how the schedule field is written: datetime-local's
// value in English, the Jalali "1405/09/15 09:00" (Persian or ASCII
// digits) in Persian.
func (l locale) ScheduleLayout() string {
	if l.persian() {
		return "1405/09/15 09:00"
	}
	return "2006-01-02T15:04"
}

// ScheduleValue is t as the schedule field shows it, in the user's zone.
func (l locale) ScheduleValue(t *time.Time) string {
	if t == nil {
		return ""
	}
	v := t.In(l.loc)
	if !l.persian() {
		return v.Format("2006-01-02T15:04")
	}
	return l.day(v) + " " + l.digits(v.Format("15:04"))
}

// ParseSchedule reads the schedule field, a wall-clock time in the user's
// zone, and returns the instant in UTC (Asia/Tehran "09:00" → 05:30Z). In
// Persian it takes a Jalali date; in either language it also takes the
// Gregorian datetime-local form, which a browser's own picker sends.
func (l locale) ParseSchedule(s string) (time.Time, error) {
	s = asciiDigits(strings.TrimSpace(s))
	if t, err := time.ParseInLocation("2006-01-02T15:04", s, l.loc); err == nil {
		return t.UTC(), nil
	}
	if !l.persian() {
		return time.Time{}, errScheduleFormat
	}
	var jy, jm, jd, hh, mm int
	n, err := fmt.Sscanf(strings.ReplaceAll(s, "-", "/"), "%d/%d/%d %d:%d", &jy, &jm, &jd, &hh, &mm)
	if err != nil || n != 5 || hh > 23 || mm > 59 || hh < 0 || mm < 0 || !jalaali.IsValidDate(jy, jm, jd) {
		return time.Time{}, errScheduleFormat
	}
	gy, gm, gd, err := jalaali.ToGregorian(jy, jalaali.Month(jm), jd)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: %w", errScheduleFormat, err)
	}
	return time.Date(gy, gm, gd, hh, mm, 0, 0, l.loc).UTC(), nil
}

// asciiDigits writes Persian and Arabic-Indic digits as ASCII ones, and
// the Persian separators as ASCII ones, so typed Persian input parses.
func asciiDigits(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= '۰' && r <= '۹':
			b.WriteRune('0' + r - '۰')
		case r >= '٠' && r <= '٩':
			b.WriteRune('0' + r - '٠')
		case r == '\u066B':
			b.WriteRune('.')
		case r == '\u066C':
			b.WriteRune(',')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
