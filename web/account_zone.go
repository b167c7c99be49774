package web

import (
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/peykar/peykar/internal/auth"
	"github.com/peykar/peykar/internal/errs"
)

// commonZones are offered in the account page's zone list before the
// browser adds its own full list (Intl.supportedValuesOf): the zones of
// Peykar's first users and the world's busiest ones.
var commonZones = []string{
	"UTC", "Asia/Tehran", "Asia/Kabul", "Asia/Dubai", "Asia/Baku", "Asia/Yerevan", "Europe/Istanbul",
	"Europe/London", "Europe/Berlin", "Europe/Paris", "Europe/Stockholm", "Europe/Moscow",
	"America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles", "America/Toronto", "America/Sao_Paulo",
	"Asia/Kolkata", "Asia/Shanghai", "Asia/Tokyo", "Asia/Singapore", "Australia/Sydney", "Africa/Cairo", "Africa/Johannesburg",
}

func (u *UI) accountZoneRoutes(g *echo.Group) {
	g.POST("/account/timezone", u.setTimezone)
	g.GET("/locale/gregorian", u.scheduleEcho)
}

// accountZone is the account page's time zone section.
type accountZone struct {
	Current string   // the user's zone, "" when not chosen
	Zones   []string // the choices (commonZones and Current)
	Now     time.Time
}

func (u *UI) accountZoneData(c echo.Context) accountZone {
	var current string
	if id, ok := auth.FromContext(c); ok && !id.ViaToken() && id.UserID != 0 {
		var err error
		if current, err = auth.Timezone(c.Request().Context(), u.Pool, id.UserID); err != nil {
			u.Logger.WarnContext(c.Request().Context(), "user time zone", "error", err)
		}
	}
	zones := slices.Clone(commonZones)
	if current != "" && !slices.Contains(zones, current) {
		zones = append(zones, current)
	}
	return accountZone{Current: current, Zones: zones, Now: time.Now()}
}

// setTimezone saves the signed-in user's time zone (the form's timezone,
// an IANA name; empty clears it).
func (u *UI) setTimezone(c echo.Context) error {
	id, ok := auth.FromContext(c)
	if !ok || id.ViaToken() || id.UserID == 0 {
		return u.pageErr(c, errs.New(errs.Forbidden, "%s", u.t(c, "account.timezone_token")))
	}
	err := auth.SetTimezone(c.Request().Context(), u.Pool, id.UserID, c.FormValue("timezone"))
	if fe, ok := asFormErr(err); ok {
		fe.Message = u.t(c, "account.timezone_invalid", c.FormValue("timezone"))
		return u.showAccount(c, http.StatusUnprocessableEntity, map[string]any{"ZoneErr": fe})
	}
	if err != nil {
		return u.pageErr(c, err)
	}
	return redirect(c, "/admin/account?zone=saved")
}

// scheduleEcho answers the schedule field's live echo (an htmx GET with
// scheduled_at): the time typed, read on the user's clock, as the
// Gregorian date and the UTC instant it will be stored as; or how to
// write it.
func (u *UI) scheduleEcho(c echo.Context) error {
	lc := u.locale(c)
	if !c.QueryParams().Has("scheduled_at") {
		return u.dateEcho(c, lc)
	}
	s := c.QueryParam("scheduled_at")
	var text string
	if s == "" {
		text = ""
	} else if at, err := lc.ParseSchedule(s); err != nil {
		text = u.t(c, "campaign.schedule_invalid", lc.digits(lc.ScheduleLayout()))
	} else {
		text = u.t(c, "campaign.schedule_echo", at.In(lc.loc).Format("2006-01-02 15:04"), lc.loc.String(), at.Format("2006-01-02 15:04"))
	}
	return c.HTML(http.StatusOK, templateEscape(text))
}

// dateEcho answers a date field's live echo (an htmx GET with the field's
// own name: a goal's target date, a report's from or to): the date typed,
// read in the locale's calendar, as the Gregorian date it is stored as; or
// how to write it.
func (u *UI) dateEcho(c echo.Context, lc locale) error {
	var s string
	for _, vs := range c.QueryParams() {
		if len(vs) > 0 && strings.TrimSpace(vs[0]) != "" {
			s = vs[0]
			break
		}
	}
	var text string
	if s != "" {
		if d, err := lc.ParseDate(s); err != nil {
			text = u.t(c, "date.invalid", lc.digits(lc.DateLayout()))
		} else {
			text = u.t(c, "date.echo", lc.digits(d.Format("2006-01-02")))
		}
	}
	return c.HTML(http.StatusOK, templateEscape(text))
}
