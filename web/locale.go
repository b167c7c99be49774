package web

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // the users' zones, also where the host has no zone database

	jalaali "github.com/jalaali/go-jalaali"
)

// locale formats numbers, percentages, money and dates for one page: its
// language and the user's time zone. It is the one place the pages
// format; the templates reach it through the date, day, num, pct, money
// and amounts funcs.
//
// English: "2026-12-06 14:30", "1,234", "12.5%", "€1,234.50".
// Persian: the Solar Hijri (Jalali) calendar and Persian digits,
// "۱۴۰۵/۰۹/۱۵ ۱۴:۳۰", "۱٬۲۳۴", "۱۲٫۵٪", "۱٬۲۳۴٫۵۰ €".
type locale struct {
	lang string         // "en", "fa"
	loc  *time.Location // the user's time zone; never nil
}

// newLocale is lang's locale in loc (UTC when loc is nil).
func newLocale(lang string, loc *time.Location) locale {
	if loc == nil {
		loc = time.UTC
	}
	return locale{lang: lang, loc: loc}
}

// persian reports whether the locale writes Persian digits and Jalali dates.
func (l locale) persian() bool { return l.lang == "fa" }

// Persian separators and signs (Unicode's Arabic thousands and decimal
// separators and percent sign, as Persian typography writes them).
const (
	faThousands = "\u066C" // ٬
	faDecimal   = "\u066B" // ٫
	faPercent   = "\u066A" // ٪
)

// digits writes s's ASCII digits as Persian digits in the Persian locale.
func (l locale) digits(s string) string {
	if !l.persian() {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune('۰' + r - '0')
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// when is t as a time, or false for a nil or zero one.
func when(t any) (time.Time, bool) {
	switch v := t.(type) {
	case time.Time:
		return v, !v.IsZero()
	case *time.Time:
		if v != nil && !v.IsZero() {
			return *v, true
		}
	}
	return time.Time{}, false
}

// Date is t's date and time (to the minute) in the user's zone: "—" for
// none.
func (l locale) Date(t any) string {
	v, ok := when(t)
	if !ok {
		return "—"
	}
	v = v.In(l.loc)
	return l.day(v) + " " + l.digits(v.Format("15:04"))
}

// Day is t's date alone in the user's zone.
func (l locale) Day(t any) string {
	v, ok := when(t)
	if !ok {
		return "—"
	}
	return l.day(v.In(l.loc))
}

// day writes v's calendar date: Gregorian "2006-01-02" in English, Jalali
// "1405/09/15" with Persian digits in Persian.
func (l locale) day(v time.Time) string {
	if !l.persian() {
		return v.Format("2006-01-02")
	}
	jy, jm, jd, err := jalaali.ToJalaali(v.Year(), v.Month(), v.Day())
	if err != nil { // outside the algorithm's years (-61 to 3177)
		return v.Format("2006-01-02")
	}
	return l.digits(pad(jy, 4) + "/" + pad(int(jm), 2) + "/" + pad(jd, 2))
}

// pad writes n with at least width digits.
func pad(n, width int) string {
	s := strconv.Itoa(n)
	for len(s) < width {
		s = "0" + s
	}
	return s
}

// Clock is t's time of day ("15:04") in the user's zone.
func (l locale) Clock(t any) string {
	v, ok := when(t)
	if !ok {
		return "—"
	}
	return l.digits(v.In(l.loc).Format("15:04"))
}

// Num writes an integer or a float (with decimals only when it has them,
// at most two) with the locale's separators.
func (l locale) Num(n any) string {
	switch v := n.(type) {
	case int:
		return l.grouped(strconv.Itoa(v), "")
	case int64:
		return l.grouped(strconv.FormatInt(v, 10), "")
	case int32:
		return l.grouped(strconv.FormatInt(int64(v), 10), "")
	case float64:
		return l.Fixed(v, 2, true)
	case nil:
		return "—"
	}
	return l.digits(fmt.Sprint(n))
}

// IsoDay writes a "2006-01-02" day (as the reports name days) in the
// locale's calendar; anything else is written as it is.
func (l locale) IsoDay(s string) string {
	d, err := time.Parse("2006-01-02", s)
	if err != nil {
		return l.digits(s)
	}
	return l.day(d)
}

// Fixed writes f with places decimals and the locale's separators; trim
// drops trailing zero decimals.
func (l locale) Fixed(f float64, places int, trim bool) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return "—"
	}
	s := strconv.FormatFloat(f, 'f', places, 64)
	whole, frac, _ := strings.Cut(s, ".")
	if trim {
		frac = strings.TrimRight(frac, "0")
	}
	return l.grouped(whole, frac)
}

// grouped puts thousands separators in whole (which may carry a sign) and
// the decimal separator before frac, in the locale's digits.
func (l locale) grouped(whole, frac string) string {
	sign := ""
	if strings.HasPrefix(whole, "-") {
		sign, whole = "-", whole[1:]
	}
	sep, dec := ",", "."
	if l.persian() {
		sep, dec = faThousands, faDecimal
	}
	var b strings.Builder
	for i, r := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteString(sep)
		}
		b.WriteRune(r)
	}
	s := sign + b.String()
	if frac != "" {
		s += dec + frac
	}
	return l.digits(s)
}

// Pct writes the share f (0.125) as a percentage with one decimal:
// "12.5%", "۱۲٫۵٪".
func (l locale) Pct(f float64) string {
	if l.persian() {
		return l.Fixed(100*f, 1, false) + faPercent
	}
	return l.Fixed(100*f, 1, false) + "%"
}

// currencySigns are the signs written instead of a currency's code.
var currencySigns = map[string]string{"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥"}

// wholeCurrencies have no minor unit in practice.
var wholeCurrencies = []string{"JPY", "KRW", "IRR", "IRT", "ISK", "CLP", "VND"}

// Money writes amount v in currency cur: "€1,234.50" or "CHF 1,234.50" in
// English; "۱٬۲۳۴٫۵۰ €" in Persian (the amount first, as Persian writes
// it). Rial and toman are named in Persian. An empty cur writes the
// amount alone.
func (l locale) Money(cur string, v float64) string {
	places := 2
	if slices.Contains(wholeCurrencies, cur) {
		places = 0
	}
	amount := l.Fixed(v, places, false)
	if cur == "" {
		return amount
	}
	sign, ok := currencySigns[cur]
	if l.persian() {
		switch cur {
		case "IRR":
			sign, ok = "ریال", true
		case "IRT":
			sign, ok = "تومان", true
		}
		if !ok {
			sign = cur
		}
		return amount + "\u00A0" + sign
	}
	if ok {
		return sign + amount
	}
	return cur + "\u00A0" + amount
}

// Amounts writes amounts in several currencies, by currency code, with
// "; " between them ("" for none).
func (l locale) Amounts(m map[string]float64) string {
	codes := make([]string, 0, len(m))
	for k := range m {
		codes = append(codes, k)
	}
	slices.Sort(codes)
	parts := make([]string, 0, len(codes))
	for _, k := range codes {
		code := k
		if code == "" {
			code = "?"
		}
		parts = append(parts, l.Money(code, m[k]))
	}
	sep := "; "
	if l.persian() {
		sep = "؛ "
	}
	return strings.Join(parts, sep)
}

// TermValue writes a goal term's value or target as its metric is shown:
// rates as percentages (to two decimals), money with two decimals, counts
// as numbers.
func (l locale) TermValue(metric string, f float64) string {
	switch metric {
	case "open_rate", "ctr", "ctor", "unsubscribe_rate", "bounce_rate", "conversion_rate",
		"total_open_rate", "total_ctr", "total_ctor":
		pct := "%"
		if l.persian() {
			pct = faPercent
		}
		return l.Fixed(100*f, 2, true) + pct
	case "revenue", "revenue_per_recipient":
		return l.Fixed(f, 2, false)
	}
	return l.Num(f)
}
