package contacts

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/internal/errs"
)

// mixedCSV has good and bad lines; the comments in TestImportMixed say
// what happens to each.
const mixedCSV = "email,name,tags,consent_source,city,age\n" + // 1
	"sara@example.com,Sara,vip;news,form,Tehran,31\n" + // 2 inserted
	"not-an-email,Bad,,,,\n" + // 3 rejected
	"ali@example.com,Ali,a|b,,Shiraz,\n" + // 4 inserted
	"bob@exa\"mple.com,Bob,,,,\n" + // 5 rejected: bare quote
	"too,few\n" + // 6 rejected: column count
	"SARA@example.com,Sara K,tag2,,,32\n" + // 7 merged into line 2
	"x@localhost,,,,,\n" + // 8 rejected: reserved domain
	"existing@example.com,New Name,,,,\n" + // 9 updated
	"unsub@example.com,Unsub,,,,\n" + // 10 updated, stays unsubscribed
	"\xff@example.com,,,,,\n" + // 11 rejected: invalid UTF-8
	"same@example.com,Same,,,,\n" + // 12 skipped: nothing changes
	"\"multi\nline\",,,,,\n" + // 13–14 rejected: invalid email
	"\n" + // 15 blank: ignored
	"last@example.com,Last,,,,\n" // 16 inserted

func TestImportMixed(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.mustCreate(t, ContactInput{Email: "existing@example.com", Name: "Old"})
	unsub := b.mustCreate(t, ContactInput{Email: "unsub@example.com"})
	require.NoError(t, Suppress(b.ctx, b.pool, unsub, StatusUnsubscribed))
	b.mustCreate(t, ContactInput{Email: "same@example.com", Name: "Same"})

	var calls int
	res, err := ImportCSV(b.ctx, b.pool, strings.NewReader(mixedCSV), "", func(Result) { calls++ })
	require.NoError(t, err)
	require.GreaterOrEqual(t, calls, 1)
	require.Equal(t, Progress{Total: 13, Inserted: 3, Updated: 2, Skipped: 1, Merged: 1, RejectedCount: 6}, res.Progress)
	lines := []int{}
	for _, r := range res.Rejected {
		lines = append(lines, r.Line)
	}
	require.Equal(t, []int{3, 5, 6, 8, 11, 13}, lines, "%+v", res.Rejected)
	require.Contains(t, res.Rejected[0].Reason, "invalid email")
	require.Contains(t, res.Rejected[1].Reason, "quote")
	require.Equal(t, "wrong number of columns", res.Rejected[2].Reason)
	require.Contains(t, res.Rejected[4].Reason, "UTF-8")
	require.Equal(t, []Duplicate{{Line: 7, FirstLine: 2}}, res.Duplicates)

	all, err := List(b.ctx, b.pool, ListQuery{Limit: 100})
	require.NoError(t, err)
	byEmail := map[string]Contact{}
	for _, c := range all {
		byEmail[c.Email] = c
	}
	require.Len(t, byEmail, 6)
	sara := byEmail["sara@example.com"]
	require.Equal(t, "Sara K", sara.Name)
	require.Equal(t, []string{"vip", "news", "tag2"}, sara.Tags)
	require.Equal(t, map[string]any{"city": "Tehran", "age": 32.0}, sara.Attributes)
	require.NotNil(t, sara.Consent)
	require.Equal(t, "form", sara.Consent.Source)
	require.Equal(t, []string{"a", "b"}, byEmail["ali@example.com"].Tags)
	require.Equal(t, "New Name", byEmail["existing@example.com"].Name)
	require.Equal(t, StatusUnsubscribed, byEmail["unsub@example.com"].Status)
	require.Equal(t, "Unsub", byEmail["unsub@example.com"].Name)

	// Importing the same file again changes nothing: every good line is
	// now skipped (or merged, or rejected as before).
	res, err = ImportCSV(b.ctx, b.pool, strings.NewReader(mixedCSV), ModeUpsert, nil)
	require.NoError(t, err)
	require.Equal(t, Progress{Total: 13, Skipped: 6, Merged: 1, RejectedCount: 6}, res.Progress)
}

func TestImportAcrossBatches(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.mustCreate(t, ContactInput{Email: "old@example.com", Name: "Old"})
	csv := "Email,Name,plan\n" +
		"a@example.com,A,free\n" + // 2
		"old@example.com,Renamed,pro\n" + // 3 existing
		"b@example.com,B,\n" + // 4
		"A@example.com,,pro\n" + // 5 repeats line 2 in a later batch
		"OLD@example.com,Again,\n" + // 6 repeats line 3 in a later batch
		"c@example.com,C,\n" // 7
	res, err := importCSV(b.ctx, b.pool, strings.NewReader(csv), ImportOptions{Mode: ModeSkipExisting}, 2, 2, nil)
	require.NoError(t, err)
	require.Equal(t, Progress{Total: 6, Inserted: 3, Skipped: 1, Merged: 2}, res.Progress)
	require.ElementsMatch(t, []Duplicate{{Line: 5, FirstLine: 2}, {Line: 6, FirstLine: 3}}, res.Duplicates)
	all, err := List(b.ctx, b.pool, ListQuery{Limit: 100})
	require.NoError(t, err)
	for _, c := range all {
		switch c.Email {
		case "a@example.com":
			require.Equal(t, "A", c.Name)
			require.Equal(t, "pro", c.Attributes["plan"], "the repeat merged into the contact this import created")
		case "old@example.com":
			require.Equal(t, "Old", c.Name, "skip-existing never touches an existing contact")
			require.Empty(t, c.Attributes)
		}
	}
}

func TestImportBadHeader(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for csv, want := range map[string]string{
		"":                          "empty",
		"name,city\nx,y\n":          "no email column",
		"email,Email\n":             "same name",
		"email,,city\n":             "no name",
		"email,\"bro\"ken\n":        "header is not valid CSV",
		"email,name\na@example.com": "",
	} {
		_, err := ImportCSV(b.ctx, b.pool, strings.NewReader(csv), ModeUpsert, nil)
		if want == "" {
			require.NoError(t, err, csv)
			continue
		}
		require.True(t, errs.Is(err, errs.Invalid), "%q: %v", csv, err)
		require.Contains(t, err.Error(), want, csv)
	}
	_, err := ImportCSV(b.ctx, b.pool, strings.NewReader("email\n"), "replace", nil)
	require.True(t, errs.Is(err, errs.Invalid))
}

// TestImportModel imports a random file in small batches over several
// workers and checks the outcome against a plain model of the rules: one
// contact per address, the last non-empty name wins, tags accumulate,
// every line is counted once.
func TestImportModel(t *testing.T) {
	t.Parallel()
	b := setup(t)
	r := rand.New(rand.NewPCG(3, 4))
	existing := map[string]string{}
	for i := range 40 {
		email := fmt.Sprintf("p%d@example.com", i*5)
		b.mustCreate(t, ContactInput{Email: email, Name: "Existing"})
		existing[email] = "Existing"
	}
	type want struct {
		name string
		tags []string
	}
	model := map[string]*want{}
	var csv strings.Builder
	csv.WriteString("email,name,tags\n")
	lines, rejected, repeats, fresh := 0, 0, 0, map[string]bool{}
	for i := range 3000 {
		lines++
		if r.IntN(20) == 0 {
			fmt.Fprintf(&csv, "bad%d@@example.com,x,\n", i)
			rejected++
			continue
		}
		email := fmt.Sprintf("p%d@example.com", r.IntN(400))
		name := ""
		if r.IntN(2) == 0 {
			name = fmt.Sprintf("N%d", i)
		}
		tag := fmt.Sprintf("t%d", r.IntN(5))
		if r.IntN(3) == 0 {
			email = strings.ToUpper(email[:2]) + email[2:]
		}
		fmt.Fprintf(&csv, "%s,%s,%s\n", email, name, tag)
		key := strings.ToLower(email)
		m, seen := model[key]
		if !seen {
			m = &want{name: existing[key]}
			model[key] = m
			fresh[key] = true
		} else {
			repeats++
		}
		if name != "" {
			m.name = name
		}
		if !slices.Contains(m.tags, tag) {
			m.tags = append(m.tags, tag)
		}
	}
	res, err := importCSV(b.ctx, b.pool, strings.NewReader(csv.String()), ImportOptions{Mode: ModeUpsert}, 37, 3, nil)
	require.NoError(t, err)
	require.Equal(t, int64(lines), res.Total)
	require.Equal(t, int64(rejected), res.RejectedCount)
	require.Equal(t, int64(repeats), res.Merged)
	require.Equal(t, res.Total, res.Inserted+res.Updated+res.Skipped+res.Merged+res.RejectedCount)
	newOnes := 0
	for k := range fresh {
		if _, ok := existing[k]; !ok {
			newOnes++
		}
	}
	require.Equal(t, int64(newOnes), res.Inserted)
	all, err := List(b.ctx, b.pool, ListQuery{Limit: 1000})
	require.NoError(t, err)
	untouched := 0
	for k := range existing {
		if model[k] == nil {
			untouched++
		}
	}
	require.Len(t, all, len(model)+untouched)
	for _, c := range all {
		m, ok := model[strings.ToLower(c.Email)]
		if !ok {
			continue
		}
		require.Equal(t, m.name, c.Name, c.Email)
		require.ElementsMatch(t, m.tags, c.Tags, c.Email)
	}
}

// TestImportCopyFreshFallback: when the direct copy of "new" addresses
// meets one that exists after all (another writer got there between the
// probe and the copy), nothing of it stays and the batch's transaction
// still takes the general path.
func TestImportCopyFreshFallback(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.mustCreate(t, ContactInput{Email: "Taken@example.com", Name: "Old"})
	conn, err := b.pool.Acquire(b.ctx)
	require.NoError(t, err)
	defer conn.Release()
	im := &importer{mode: ModeUpsert, size: 10}
	w := &importWorker{im: im, conn: conn}
	require.NoError(t, w.prepare(b.ctx))
	tx, err := conn.Begin(b.ctx)
	require.NoError(t, err)
	defer func() { _ = tx.Rollback(b.ctx) }()
	batch := []importRow{
		{line: 2, email: "new@example.com", key: "new@example.com", name: "New", tags: []string{}, attrs: map[string]any{}},
		{line: 3, email: "taken@example.com", key: "taken@example.com", name: "Newer", tags: []string{"t"}, attrs: map[string]any{}},
	}
	ok, err := copyFresh(b.ctx, tx, []*importRow{&batch[0], &batch[1]}, time.Now())
	require.NoError(t, err)
	require.False(t, ok)
	var n int
	require.NoError(t, tx.QueryRow(b.ctx, `SELECT count(*) FROM contacts WHERE email_key = 'new@example.com'`).Scan(&n))
	require.Zero(t, n, "the failed copy left nothing")
	var c batchCounts
	require.NoError(t, w.upsert(b.ctx, tx, batch, &c))
	require.Equal(t, batchCounts{inserted: 1, updated: 1}, c)
	require.NoError(t, tx.Commit(b.ctx))
	got, err := List(b.ctx, b.pool, ListQuery{Limit: 10})
	require.NoError(t, err)
	require.Len(t, got, 2)
}

// TestAttrsJSON: the import's own JSON encoding of attributes reads back
// as the values it was given.
func TestAttrsJSON(t *testing.T) {
	attrs := map[string]any{"city": "Tehran", "q\"uote\\": "a\"b\\c\n\r\t\x01\x1f é 😀 </script>&", "age": 42.0, "neg": -3.5,
		"zero": 0.0, "tiny": 1e-7, "huge": 1e22, "big": 123456789012345.0, "frac": 0.000001, "": "", "list": []any{"x", 1.0}}
	b, err := attrsJSON(attrs)
	require.NoError(t, err)
	var back map[string]any
	require.NoError(t, json.Unmarshal(b, &back), string(b))
	require.Equal(t, attrs, back)
	empty, err := attrsJSON(map[string]any{})
	require.NoError(t, err)
	require.Equal(t, "{}", string(empty))
}
