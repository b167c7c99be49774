package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/internal/auth"
)

// journeyWithEntries starts a triggered signup campaign with a delayed
// first step (so entries stay active) that a purchase exits, posts
// signups for emails and a purchase for the first of them, and waits
// until the engine has recorded it all. It returns the campaign's id.
func journeyWithEntries(t *testing.T, m *Main, token string, emails []string) int64 {
	t.Helper()
	code, body := do(t, m, http.MethodPost, "/api/v1/templates", token, map[string]any{
		"name": "welcome", "subject": "Welcome", "html": `<p>Hello</p><p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p>`})
	require.Equal(t, http.StatusCreated, code, body)
	var tpl struct{ ID int64 }
	require.NoError(t, json.Unmarshal([]byte(body), &tpl))
	code, body = do(t, m, http.MethodPost, "/api/v1/campaigns", token, map[string]any{
		"name": "Welcome", "from": map[string]any{"name": "Shop", "email": "news@shop.example"},
		"entry": map[string]any{"type": "event", "event": "signup", "delay": "1h"},
		"exit":  []map[string]any{{"event": "purchase"}},
		"steps": []map[string]any{{"key": "welcome", "template_id": tpl.ID}}})
	require.Equal(t, http.StatusCreated, code, body)
	var c struct{ ID int64 }
	require.NoError(t, json.Unmarshal([]byte(body), &c))
	code, body = do(t, m, http.MethodPost, fmt.Sprintf("/api/v1/campaigns/%d/launch", c.ID), token, nil)
	require.Equal(t, http.StatusOK, code, body)
	for _, e := range emails {
		code, body = do(t, m, http.MethodPost, "/api/v1/events", token, map[string]any{"email": e, "type": "signup"})
		require.Equal(t, http.StatusAccepted, code, body)
	}
	countWhere := func(where string) int {
		var n int
		require.NoError(t, m.pool.QueryRow(t.Context(), `SELECT count(*) FROM campaign_entries WHERE campaign_id = $1 AND `+where, c.ID).Scan(&n))
		return n
	}
	require.Eventually(t, func() bool { return countWhere("true") == len(emails) }, 30*time.Second, 20*time.Millisecond, "the signups never entered")
	code, body = do(t, m, http.MethodPost, "/api/v1/events", token, map[string]any{"email": emails[0], "type": "purchase", "value": 10})
	require.Equal(t, http.StatusAccepted, code, body)
	require.Eventually(t, func() bool { return countWhere("status = 'exited'") == 1 }, 30*time.Second, 20*time.Millisecond, "the purchase never exited")
	return c.ID
}

// rawEntry is one campaign_entries row as the test reads it.
type rawEntry struct {
	ID             int64
	Email, Status  string
	Step, Reason   string
	ContactID      int64
	EnteredAtMilli int64
}

func rawEntries(t *testing.T, m *Main, id int64) []rawEntry {
	t.Helper()
	rows, err := m.pool.Query(t.Context(), `SELECT e.id, c.email, e.status, e.step, e.exit_reason, e.contact_id
		FROM campaign_entries e JOIN contacts c ON c.id = e.contact_id WHERE e.campaign_id = $1 ORDER BY e.id DESC`, id)
	require.NoError(t, err)
	defer rows.Close()
	var out []rawEntry
	for rows.Next() {
		var e rawEntry
		require.NoError(t, rows.Scan(&e.ID, &e.Email, &e.Status, &e.Step, &e.Reason, &e.ContactID))
		out = append(out, e)
	}
	require.NoError(t, rows.Err())
	return out
}

var entryRowRE = regexp.MustCompile(`(?s)<tr data-entry="(\d+)">.*?href="/admin/contacts/(\d+)"[^>]*>([^<]*)</a>.*?<span class="badge entry-(\w+)">([^<]*)</span>`)

// TestJourneyEntriesPage: signups posted to the real server enter a
// triggered campaign; the entries page lists them newest first as
// campaign_entries holds them (email linked to the contact, status
// translated), filters by status, refuses a bad
// filter clearly, and the campaign page counts them by status and exit
// reason, each count linking to the filtered list; a manager may read it.
func TestJourneyEntriesPage(t *testing.T) {
	t.Parallel()
	m := testMain(t)
	token := testToken(t, m, auth.RoleMarketer)
	emails := []string{"a@example.com", "b@example.com", "c@example.com"}
	id := journeyWithEntries(t, m, token, emails)
	raw := rawEntries(t, m, id)
	require.Len(t, raw, 3)

	manager := testToken(t, m, auth.RoleManager)
	path := fmt.Sprintf("/admin/campaigns/%d/entries", id)
	code, body := builderGet(t, m, manager, "en", path)
	require.Equal(t, http.StatusOK, code, body)
	got := entryRowRE.FindAllStringSubmatch(body, -1)
	require.Len(t, got, len(raw), body)
	for i, r := range raw {
		require.Equal(t, fmt.Sprint(r.ID), got[i][1])
		require.Equal(t, fmt.Sprint(r.ContactID), got[i][2])
		require.Equal(t, r.Email, got[i][3])
		require.Equal(t, r.Status, got[i][4])
		if r.Status == "exited" {
			require.Equal(t, emails[0], r.Email)
			require.Equal(t, "Exited", got[i][5])
			require.Contains(t, body, r.Reason)
		}
	}

	// The filter shows only that status; Persian translates it.
	code, body = builderGet(t, m, manager, "fa", path+"?status=exited")
	require.Equal(t, http.StatusOK, code, body)
	got = entryRowRE.FindAllStringSubmatch(body, -1)
	require.Len(t, got, 1, body)
	require.Equal(t, emails[0], got[0][3])
	require.Equal(t, "خارج‌شده", got[0][5])
	code, body = builderGet(t, m, manager, "en", path+"?status=active")
	require.Equal(t, http.StatusOK, code, body)
	require.Len(t, entryRowRE.FindAllStringSubmatch(body, -1), 2, body)
	code, body = builderGet(t, m, manager, "en", path+"?status=lost")
	require.Equal(t, http.StatusUnprocessableEntity, code, body)
	require.Contains(t, body, "There is no entry status &#34;lost&#34;")
	code, body = builderGet(t, m, manager, "fa", path+"?status=lost")
	require.Equal(t, http.StatusUnprocessableEntity, code, body)
	require.Contains(t, body, "وضعیت ورود")

	// The campaign page counts what campaign_entries holds.
	code, body = builderGet(t, m, manager, "en", fmt.Sprintf("/admin/campaigns/%d", id))
	require.Equal(t, http.StatusOK, code, body)
	byStatus := map[string]int{}
	for _, r := range raw {
		byStatus[r.Status]++
	}
	for _, st := range []string{"active", "done", "exited", "failed"} {
		card := regexp.MustCompile(fmt.Sprintf(`id="entries-%s" href="%s\?status=%s"><div class="value">(\d+)</div>`, st, regexp.QuoteMeta(path), st)).FindStringSubmatch(body)
		require.NotNil(t, card, "no %s card in %s", st, body)
		require.Equal(t, fmt.Sprint(byStatus[st]), card[1], st)
	}
	require.Equal(t, 2, byStatus["active"])
	reason := ""
	for _, r := range raw {
		if r.Status == "exited" {
			reason = r.Reason
		}
	}
	require.NotEmpty(t, reason)
	require.Contains(t, body, `<div class="hint exit-reason">1 — <bdi class="mono" dir="ltr">`+reason+`</bdi>`)
}
