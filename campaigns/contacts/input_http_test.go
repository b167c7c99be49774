package contacts

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// rawJSON sends a JSON body as written (json.Marshal would escape what the
// test means to send).
func (a api) rawJSON(method, path, body string) (int, map[string]any) {
	a.t.Helper()
	req, err := http.NewRequestWithContext(a.ctx, method, a.url+path, strings.NewReader(body))
	require.NoError(a.t, err)
	req.Header.Set("Content-Type", "application/json")
	return a.send(req)
}

// requireInvalid checks a 422 about field.
func requireInvalid(t *testing.T, code int, body map[string]any, field, message string) {
	t.Helper()
	require.Equal(t, http.StatusUnprocessableEntity, code, body)
	e := body["error"].(map[string]any)
	require.Equal(t, "invalid", e["code"], body)
	require.Equal(t, field, e["field"], body)
	require.Contains(t, e["message"], message, body)
}

// TestNULInContactsAPI: a NUL byte anywhere in a body (names, attribute
// keys and values, tags, events; segments in campaigns/segments'
// TestNULInSegmentsAPI) answers 422 naming the field, and nothing is stored.
func TestNULInContactsAPI(t *testing.T) {
	t.Parallel()
	a := newAPI(t, nil)
	id := a.mustCreate(t, ContactInput{Email: "sara@example.com", Name: "Sara"})
	for _, c := range []struct{ method, path, body, field string }{
		{"POST", "/contacts", `{"email":"a@example.com","name":"A\u0000"}`, "name"},
		{"POST", "/contacts", `{"email":"a@example.com","attributes":{"city":"Teh\u0000ran"}}`, "attributes.city"},
		{"POST", "/contacts", `{"email":"a@example.com","attributes":{"ci\u0000ty":"Tehran"}}`, `attributes.ci\u0000ty`},
		{"POST", "/contacts", `{"email":"a@example.com","tags":["vip","x\u0000"]}`, "tags[1]"},
		{"PUT", "/contacts/" + strconv.FormatInt(id, 10), `{"email":"sara@example.com","attributes":{"nested":{"list":[1,"\u0000"]}}}`, "attributes.nested.list[1]"},
		{"POST", "/events", `{"email":"a@example.com","type":"purchase","attributes":{"sku":"\u0000"}}`, "attributes.sku"},
		{"POST", "/suppressions", `{"value":"x@example.com","reason":"\u0000"}`, "reason"},
	} {
		code, body := a.rawJSON(c.method, c.path, c.body)
		requireInvalid(t, code, body, c.field, "NUL")
	}
	var n int
	require.NoError(t, a.pool.QueryRow(a.ctx, `SELECT (SELECT count(*) FROM contacts) + (SELECT count(*) FROM segments) + (SELECT count(*) FROM transactions)`).Scan(&n))
	require.Equal(t, 1, n, "nothing stored but the first contact")
	code, got := a.do("GET", "/contacts/"+strconv.FormatInt(id, 10), nil)
	require.Equal(t, http.StatusOK, code)
	require.Empty(t, got["attributes"])
}

// TestLineBreakInContactName: a contact's name goes into the To header of
// every message, so a line break or other control character is refused.
func TestLineBreakInContactName(t *testing.T) {
	t.Parallel()
	a := newAPI(t, nil)
	for name, what := range map[string]string{"Sara\r\nBcc: all@example.com": "carriage return", "Sara\nX": "line feed", "a\tb": "tab"} {
		code, body := a.do("POST", "/contacts", map[string]any{"email": "a@example.com", "name": name})
		requireInvalid(t, code, body, "name", what)
	}
	code, body := a.do("POST", "/contacts", map[string]any{"email": "a@example.com", "tags": []string{"two\nlines"}})
	requireInvalid(t, code, body, "tags", "line feed")
	code, body = a.do("POST", "/contacts", map[string]any{"email": "a@example.com", "name": " Sara ", "attributes": map[string]any{"address": "line 1\nline 2"}})
	require.Equal(t, http.StatusCreated, code, body, "attributes may span lines; only header values may not")
	code, body = a.do("PUT", "/contacts/"+strconv.FormatInt(idOf(t, body), 10), map[string]any{"email": "a@example.com", "name": "Sara\r\n" + "X"})
	requireInvalid(t, code, body, "name", "carriage return")
}

// TestImportRejectsNULAndLineBreakRowsOnly: a NUL byte or a line break in a
// name rejects that row, with its line and column, and the good rows are
// imported; the import finishes on its first attempt.
func TestImportRejectsNULAndLineBreakRowsOnly(t *testing.T) {
	t.Parallel()
	a := newAPI(t, withRiver(t))
	csv := "email,name,city\n" +
		"good1@example.com,Good One,Tehran\n" +
		"nul1@example.com,Bad\x00Name,Tehran\n" +
		"nul2@example.com,Bad City,Teh\x00ran\n" +
		"crlf@example.com,\"Sara\r\nBcc: all@example.com\",Tehran\n" +
		"good2@example.com,Good Two,\"Shiraz\nnorth\"\n"
	code, body := a.upload(csv, nil)
	require.Equal(t, http.StatusAccepted, code, body)
	got := a.waitImport(idOf(t, body))
	require.Equal(t, ImportFinished, got["status"], got)
	require.Equal(t, 5.0, got["total"])
	require.Equal(t, 2.0, got["inserted"])
	require.Equal(t, 3.0, got["rejected_count"])
	require.Equal(t, []any{
		map[string]any{"line": 3.0, "reason": `contains a NUL byte in column "name"`},
		map[string]any{"line": 4.0, "reason": `contains a NUL byte in column "city"`},
		map[string]any{"line": 5.0, "reason": `column "name" must be one line without control characters; it contains a line feed (U+000A)`}, // encoding/csv reads a quoted CRLF as LF
	}, got["rejected"])
	var emails []string
	require.NoError(t, a.pool.QueryRow(a.ctx, `SELECT array_agg(email ORDER BY email) FROM contacts`).Scan(&emails))
	require.Equal(t, []string{"good1@example.com", "good2@example.com"}, emails)
	var attempts []int
	require.NoError(t, a.pool.QueryRow(a.ctx, `SELECT array_agg(attempt) FROM river_job WHERE kind = 'contacts_import'`).Scan(&attempts))
	require.Equal(t, []int{1}, attempts, "a bad row is not a reason to retry the import")

	// A NUL in the header (a column name becomes an attribute key) fails
	// the whole file, at once, with the column.
	code, body = a.upload("email,ci\x00ty\na@example.com,x\n", nil)
	require.Equal(t, http.StatusAccepted, code, body)
	got = a.waitImport(idOf(t, body))
	require.Equal(t, ImportFailed, got["status"])
	require.Contains(t, got["error"], "column 2: the header contains a NUL byte")
}

// TestImportFileNameWithNUL: the upload's file name is stored, so a NUL in
// it is refused at upload.
func TestImportFileNameWithNUL(t *testing.T) {
	t.Parallel()
	a := newAPI(t, withRiver(t))
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	h := make(map[string][]string)
	h["Content-Disposition"] = []string{"form-data; name=\"file\"; filename*=UTF-8''a%00.csv"}
	part, err := w.CreatePart(h)
	require.NoError(t, err)
	_, err = part.Write([]byte("email\na@example.com\n"))
	require.NoError(t, err)
	require.NoError(t, w.Close())
	req, err := http.NewRequestWithContext(a.ctx, "POST", a.url+"/contacts/import", &b)
	require.NoError(t, err)
	req.Header.Set("Content-Type", w.FormDataContentType())
	code, body := a.send(req)
	requireInvalid(t, code, body, "file", "file name contains a NUL")
}
