package reports_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/campaigns/contacts"
	"github.com/peykar/peykar/campaigns/reports"
	"github.com/peykar/peykar/internal/factory"
)

func readCSV(t *testing.T, b *bundle, path string) [][]string {
	t.Helper()
	code, body := b.body(t, path)
	require.Equal(t, http.StatusOK, code, body)
	if strings.Contains(path, "bom=1") {
		require.True(t, strings.HasPrefix(body, "\uFEFF"), "BOM")
		body = strings.TrimPrefix(body, "\uFEFF")
	} else {
		require.False(t, strings.HasPrefix(body, "\uFEFF"))
	}
	recs, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	require.NoError(t, err)
	return recs
}

func TestCSVExportsRoundTrip(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	c := b.seed(t, 30, 7)
	b.launch(t, c)
	generateEvents(t, b, c)

	// Deliveries: one row per delivery, with its events summary.
	for _, q := range []string{"", "?bom=1"} {
		recs := readCSV(t, b, "/campaigns/"+itoa(c.ID)+"/deliveries.csv"+q)
		require.Equal(t, "delivery_id", recs[0][0])
		var n int
		require.NoError(t, b.pool.QueryRow(ctx, `SELECT count(*) FROM deliveries WHERE campaign_id = $1`, c.ID).Scan(&n))
		require.Len(t, recs, n+1)
		col := map[string]int{}
		for i, h := range recs[0] {
			col[h] = i
		}
		for _, rec := range recs[1:] {
			var email, status, lastError string
			var opens, totalClicks int64
			require.NoError(t, b.pool.QueryRow(ctx, `SELECT ct.email, d.status, d.last_error,
					(SELECT count(*) FROM events WHERE delivery_id = d.id AND type = 'open' AND NOT machine),
					(SELECT count(*) FROM events WHERE delivery_id = d.id AND type = 'click')
				FROM deliveries d JOIN contacts ct ON ct.id = d.contact_id WHERE d.id = $1`, rec[0]).Scan(&email, &status, &lastError, &opens, &totalClicks))
			require.Equal(t, email, rec[col["email"]])
			require.Equal(t, status, rec[col["status"]])
			require.Equal(t, lastError, rec[col["last_error"]])
			require.Equal(t, itoa(opens), rec[col["opens"]])
			require.Equal(t, itoa(totalClicks), rec[col["total_clicks"]])
		}
	}

	// Links: names and URLs with commas, quotes and Persian text.
	recs := readCSV(t, b, "/campaigns/"+itoa(c.ID)+"/links.csv")
	require.Len(t, recs, 7)
	require.Equal(t, "https://shop.example/a,b?q=\"x\"", recs[2][2])
	require.Equal(t, "Odd, \"quoted\"", recs[2][3])
	require.Equal(t, "فروشگاه", recs[3][3])

	// The report summary.
	r, err := b.svc.Report(ctx, c.ID)
	require.NoError(t, err)
	recs = readCSV(t, b, "/campaigns/"+itoa(c.ID)+"/report.csv")
	fields := map[string]string{}
	for _, rec := range recs[1:] {
		fields[rec[0]] = rec[1]
	}
	require.Equal(t, itoa(r.Metrics.Sent), fields["metrics.sent"])
	require.Equal(t, itoa(r.Metrics.TotalClicks), fields["metrics.total_clicks"])
	require.Equal(t, itoa(r.Steps["main"].Opens), fields["steps.main.opens"])
	require.Equal(t, "https://shop.example/a,b?q=\"x\"", fields["links[1].url"])
}

func TestSegmentContactsCSV(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	names := []string{"سارا, \"تهران\"", "line one\nline two", "plain", "=cmd|' /C calc'!A0", "قیمت \"ویژه\"\r\nخط"}
	for i := range 2500 {
		// Names are one line since the API refuses line breaks; contacts
		// stored before that may still have them, so those are written
		// with SQL below.
		name := strings.NewReplacer("\r", "", "\n", " ").Replace(names[i%len(names)])
		city := "Tehran"
		if i%3 == 0 {
			city = "Shiraz"
		}
		_, err := contacts.Create(ctx, b.pool, contacts.ContactInput{Email: "p" + itoa(int64(i)) + "@example.com", Name: name,
			Attributes: map[string]any{"city": city, "note": "a,\"b\"\nc"}, Tags: []string{"vip", "new"}})
		require.NoError(t, err)
	}
	// Raw on purpose: names with line breaks, which contacts refuses, as
	// older data may hold them.
	for _, n := range names {
		_, err := b.pool.Exec(ctx, `UPDATE contacts SET name = $1 WHERE name = $2`, n, strings.NewReplacer("\r", "", "\n", " ").Replace(n))
		require.NoError(t, err)
	}
	segID := factory.Segment(t, b.pool, factory.SegmentName("tehran"), factory.Rule(`contact.attributes.city == "Tehran"`)).ID
	recs := readCSV(t, b, "/segments/"+itoa(segID)+"/contacts.csv?bom=1")
	var want int
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT count(*) FROM contacts WHERE attributes->>'city' = 'Tehran'`).Scan(&want))
	require.Len(t, recs, want+1, "header plus every matching contact across several pages")
	prev := int64(0)
	for _, rec := range recs[1:] {
		var id int64
		var name string
		require.NoError(t, b.pool.QueryRow(ctx, `SELECT id, name FROM contacts WHERE email = $1`, rec[1]).Scan(&id, &name))
		require.Equal(t, itoa(id), rec[0])
		require.Greater(t, id, prev, "id order")
		prev = id
		// encoding/csv's reader turns a quoted \r\n into \n (the writer keeps it).
		if strings.HasPrefix(name, "=") {
			name = "'" + name // neutralised against formulas
		}
		require.Equal(t, strings.ReplaceAll(name, "\r\n", "\n"), rec[2], "name survives the round trip")
		var attrs map[string]any
		require.NoError(t, json.Unmarshal([]byte(rec[5]), &attrs))
		require.Equal(t, "a,\"b\"\nc", attrs["note"])
		require.Equal(t, "vip;new", rec[4])
	}
	code, _ := b.body(t, "/segments/999999/contacts.csv")
	require.Equal(t, http.StatusNotFound, code)
}

// TestCSVFormulaInjection checks that every export neutralises cells that
// a spreadsheet would run as formulas, and leaves numbers alone.
func TestCSVFormulaInjection(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	c := b.seed(t, 5, 1000)
	b.launch(t, c)
	evil := []string{"=HYPERLINK(\"https://evil.example\")", "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)", "\t=1", "\r=1"}
	// Raw on purpose: formula-like values no owner would store this way.
	_, err := b.pool.Exec(ctx, `UPDATE deliveries SET last_error = ($2::text[])[1 + id % 6] WHERE campaign_id = $1`, c.ID, evil)
	require.NoError(t, err)
	_, err = b.pool.Exec(ctx, `UPDATE contacts SET email = '=' || email WHERE id IN (SELECT contact_id FROM deliveries WHERE campaign_id = $1)`, c.ID)
	require.NoError(t, err)
	_, err = b.pool.Exec(ctx, `UPDATE campaign_links SET name = '@SUM(A1)', url = '=https://x.example' WHERE campaign_id = $1`, c.ID)
	require.NoError(t, err)

	safe := func(v string) {
		t.Helper()
		if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
			_, err := strconv.ParseFloat(v, 64)
			require.NoError(t, err, "cell %q would run as a formula", v)
		}
	}
	for _, path := range []string{"/deliveries.csv", "/links.csv", "/report.csv"} {
		recs := readCSV(t, b, "/campaigns/"+itoa(c.ID)+path)
		require.Greater(t, len(recs), 1, path)
		for _, rec := range recs {
			for _, v := range rec {
				safe(v)
			}
		}
	}
	recs := readCSV(t, b, "/campaigns/"+itoa(c.ID)+"/deliveries.csv")
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	seen := map[string]bool{}
	for _, rec := range recs[1:] {
		require.True(t, strings.HasPrefix(rec[col["email"]], "'="), rec[col["email"]])
		seen[rec[col["last_error"]]] = true
	}
	require.True(t, seen["'=HYPERLINK(\"https://evil.example\")"] || seen["'+1+cmd|' /C calc'!A0"] || seen["'-2+3"], "last_error neutralised: %v", seen)
}

// TestDeliveriesCSVPathsAgree checks that the two-connection export (two
// sorted streams merged in Go) and the one-statement export (used when the
// pool has no second connection free) write the same bytes.
func TestDeliveriesCSVPathsAgree(t *testing.T) {
	b := setup(t)
	c := b.seed(t, 40, 5)
	b.launch(t, c)
	generateEvents(t, b, c)
	path := "/campaigns/" + itoa(c.ID) + "/deliveries.csv"
	code, split := b.body(t, path)
	require.Equal(t, http.StatusOK, code, split)
	reports.SingleStatementExport(true)
	defer reports.SingleStatementExport(false)
	code, single := b.body(t, path)
	require.Equal(t, http.StatusOK, code, single)
	require.Equal(t, single, split)
	require.Greater(t, strings.Count(split, "\n"), 40)
}
