package httpapi

import (
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
)

// DataAgeHeader is the response header of an answer read from a replica:
// how old its data may be, in whole seconds ("2s"). An answer read from
// the primary, which is exact now, has none.
const DataAgeHeader = "Peykar-Data-Age"

// SetDataAge sets DataAgeHeader to the time from asOf to now; nothing for
// the zero asOf (the primary).
func SetDataAge(c echo.Context, asOf, now time.Time) {
	if asOf.IsZero() {
		return
	}
	c.Response().Header().Set(DataAgeHeader, DataAge(asOf, now))
}

// DataAge is the age of data as of asOf at now in whole seconds, "2s"
// (never negative).
func DataAge(asOf, now time.Time) string {
	return strconv.FormatInt(int64(max(0, now.Sub(asOf))/time.Second), 10) + "s"
}
