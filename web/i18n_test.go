package web

import (
	"encoding/json"
	"io/fs"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestEveryMessageIDExists checks that each {{t "id"}} in the templates,
// and each id the pages build from a status or role, is in the catalogue.
func TestEveryMessageIDExists(t *testing.T) {
	t.Parallel()
	msg, err := loadCatalogue("en")
	require.NoError(t, err)
	ids := regexp.MustCompile(`\btc? "([a-z_.]+)"`)
	names, err := fs.Glob(assets, "templates/*.html")
	require.NoError(t, err)
	require.NotEmpty(t, names)
	for _, name := range names {
		b, err := assets.ReadFile(name)
		require.NoError(t, err)
		for _, m := range ids.FindAllSubmatch(b, -1) {
			require.Contains(t, msg, string(m[1]), "%s uses a message id the catalogue lacks", name)
		}
	}
	for _, s := range []string{"draft", "scheduled", "running", "paused", "finished", "cancelled"} {
		require.Contains(t, msg, "status."+s)
	}
	for prefix, values := range map[string][]string{
		"contact_status.":  {"active", "pending", "unsubscribed", "bounced", "complained", "erased"},
		"delivery_status.": {"queued", "sending", "sent", "failed", "bounced", "complained", "skipped"},
		"import_status.":   {"running", "finished", "failed"},
	} {
		for _, s := range values {
			require.Contains(t, msg, prefix+s)
		}
	}
	for _, s := range []string{"admin", "marketer", "manager"} {
		require.Contains(t, msg, "role."+s)
	}
	for _, s := range []string{"met", "pending", "missed"} {
		require.Contains(t, msg, "goal."+s)
	}
	for _, s := range []string{"open", "click", "unsubscribe", "conversion", "bounce", "complaint"} {
		require.Contains(t, msg, "event."+s)
	}
	for _, s := range []string{"address", "domain"} {
		require.Contains(t, msg, "suppressions.kind_"+s)
	}
	for _, s := range ruleEvents {
		require.Contains(t, msg, "rule.on."+s)
	}
	for _, s := range ruleActions {
		require.Contains(t, msg, "rule.action."+s)
	}
	for _, s := range []string{"launch", "pause", "resume", "cancel"} {
		require.Contains(t, msg, "campaign."+s)
	}
}

// TestPagesParse parses every page with the layout.
func TestPagesParse(t *testing.T) {
	t.Parallel()
	msg, err := loadCatalogue("en")
	require.NoError(t, err)
	pages, err := parsePages(msg, newLocale("en", nil))
	require.NoError(t, err)
	require.Contains(t, pages, "login")
	require.Contains(t, pages, "campaign")
}

func TestSafeNext(t *testing.T) {
	t.Parallel()
	require.Equal(t, "/admin/outbox", safeNext("/admin/outbox"))
	for _, bad := range []string{"https://evil.example/", "//evil.example/admin", "/\\\\evil.example", "", "/t/c/x"} {
		require.Equal(t, "/admin", safeNext(bad), bad)
	}
}

// TestTranslationsKnownIDs keeps translations to ids English has.
func TestTranslationsKnownIDs(t *testing.T) {
	t.Parallel()
	en, err := loadCatalogue("en")
	require.NoError(t, err)
	names, err := fs.Glob(assets, "i18n/*.json")
	require.NoError(t, err)
	for _, name := range names {
		var only catalogue
		b, err := assets.ReadFile(name)
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(b, &only), name)
		for id, text := range only {
			require.Contains(t, en, id, "%s has an id English lacks", name)
			require.Equal(t, verbs.FindAllString(en[id], -1), verbs.FindAllString(text, -1),
				"%s: %s must take the same arguments as English", name, id)
		}
		require.Contains(t, []string{"ltr", "rtl"}, only["dir"], name)
	}
}

// verbs finds fmt verbs with arguments (not "%%", not "10% rate").
var verbs = regexp.MustCompile(`%[-+#0]*\d*(?:\.\d+)?[dsvfqx]`)

// TestPersianIsComplete: Persian is the second locale, and every message
// has it.
func TestPersianIsComplete(t *testing.T) {
	t.Parallel()
	en, err := loadCatalogue("en")
	require.NoError(t, err)
	var fa catalogue
	b, err := assets.ReadFile("i18n/fa.json")
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &fa))
	for id := range en {
		require.Contains(t, fa, id, "fa.json lacks %s", id)
	}
}
