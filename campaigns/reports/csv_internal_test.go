package reports

import (
	"bytes"
	"encoding/binary"
	"encoding/csv"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestNeutralise(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"":                  "",
		"plain":             "plain",
		"=1+2":              "'=1+2",
		"+cmd":              "'+cmd",
		"-2+3":              "'-2+3",
		"@SUM(A1)":          "'@SUM(A1)",
		"\t=1":              "'\t=1",
		"\r=1":              "'\r=1",
		"-3":                "-3",
		"+1.5e3":            "+1.5e3",
		"-0.25":             "-0.25",
		"-":                 "'-",
		"-e5":               "'-e5",
		"-1e":               "'-1e",
		"a=b":               "a=b",
		"https://x/?a=-1":   "https://x/?a=-1",
		"=HYPERLINK(\"x\")": "'=HYPERLINK(\"x\")",
	} {
		require.Equal(t, want, neutralise(in), "%q", in)
	}
}

// TestAppendCSVTextMatchesEncodingCSV checks the fast exports' cell
// writer against encoding/csv's Writer with neutralise on tricky values.
func TestAppendCSVTextMatchesEncodingCSV(t *testing.T) {
	t.Parallel()
	values := []string{"", "plain", "a,b", `say "hi"`, "line\nbreak", "cr\rhere", "crlf\r\nx", `\.`, `\.x`, " lead", "\tlead",
		"\u00a0nbsp", "\u2003em", "trail ", "=1+2", "=a,b", `="x"`, "+cmd", "-2+3", "-3", "+1.5e3", "@SUM(A1)", "\t=1",
		"\r=1", "-", "'", "''", `"`, ",", "\n", "ایمیل@example.com", "a\"b,c\nd", "-\n", "=\"", "\xff\xfe bad utf8"}
	for _, v := range values {
		var want bytes.Buffer
		w := csv.NewWriter(&want)
		require.NoError(t, w.Write([]string{neutralise(v), "x"}))
		w.Flush()
		got := append(appendCSVText(nil, []byte(v)), ",x\n"...)
		require.Equal(t, want.String(), string(got), "%q", v)
		r, err := csv.NewReader(bytes.NewReader(got)).Read()
		require.NoError(t, err, "%q", v)
		// encoding/csv reads a quoted CRLF as LF.
		require.Equal(t, strings.ReplaceAll(neutralise(v), "\r\n", "\n"), r[0], "%q", v)
	}
}

// TestAppendTimestamptz checks the binary timestamp formatter against
// time.Format(time.RFC3339) in UTC, before and after 2000 and at
// sub-second instants.
func TestAppendTimestamptz(t *testing.T) {
	t.Parallel()
	for _, tm := range []time.Time{
		time.Date(2026, 11, 24, 3, 4, 5, 999999000, time.UTC),
		time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(1999, 12, 31, 23, 59, 59, 500000000, time.UTC),
		time.Date(1970, 1, 1, 0, 0, 0, 1000, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC),
		time.Date(12000, 1, 2, 3, 4, 5, 0, time.UTC),
		time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2024, 2, 29, 12, 30, 0, 0, time.FixedZone("Tehran", 12600)),
	} {
		us := (tm.Unix()-pgEpoch)*1e6 + int64(tm.Nanosecond()/1000)
		b := binary.BigEndian.AppendUint64(nil, uint64(us))
		got, err := appendTimestamptz(nil, b)
		require.NoError(t, err)
		require.Equal(t, tm.UTC().Format(time.RFC3339), string(got), "%s", tm)
	}
	got, err := appendTimestamptz([]byte("x"), nil)
	require.NoError(t, err)
	require.Equal(t, "x", string(got))
	_, err = appendTimestamptz(nil, binary.BigEndian.AppendUint64(nil, uint64(math.MaxInt64)))
	require.Error(t, err)
}
