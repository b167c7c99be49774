package contacts

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestImportDelimiters uploads files with each file delimiter and tag
// separator through the API and the import job, and reads the contacts
// back: the columns and tags come out as chosen, the import remembers its
// choices, the defaults are unchanged (commas; tags on ";" or "|"), and an
// unknown choice is refused with its field before anything is stored.
func TestImportDelimiters(t *testing.T) {
	t.Parallel()
	a := newAPI(t, withRiver(t))
	cases := []struct {
		name, csv string
		fields    map[string]string
		email     string
		tags      []string
		city      string
	}{
		{"defaults", "email,name,tags,city\nd@example.com,Dana,vip;new|b2b,Tehran\n", nil,
			"d@example.com", []string{"b2b", "new", "vip"}, "Tehran"},
		{"semicolon file, comma tags", "email;name;tags;city\ns@example.com;Sara;vip,new;Shiraz\n",
			map[string]string{"delimiter": "semicolon", "tag_separator": "comma"}, "s@example.com", []string{"new", "vip"}, "Shiraz"},
		{"tab file, space tags", "email\tname\ttags\tcity\nt@example.com\tTara\tvip  new\tTabriz\n",
			map[string]string{"delimiter": "tab", "tag_separator": "space"}, "t@example.com", []string{"new", "vip"}, "Tabriz"},
		{"comma file, quoted comma tags", "email,tags,city\nq@example.com,\"vip, new\",Qom\n",
			map[string]string{"tag_separator": "comma"}, "q@example.com", []string{"new", "vip"}, "Qom"},
		{"pipe tags keep semicolons", "email,tags,city\np@example.com,a;b|c,Pardis\n",
			map[string]string{"tag_separator": "pipe"}, "p@example.com", []string{"a;b", "c"}, "Pardis"},
	}
	for _, c := range cases {
		code, body := a.upload(c.csv, c.fields)
		require.Equal(t, http.StatusAccepted, code, "%s: %v", c.name, body)
		got := a.waitImport(idOf(t, body))
		require.Equal(t, ImportFinished, got["status"], "%s: %v", c.name, got)
		require.Equal(t, 1.0, got["inserted"], "%s: %v", c.name, got)
		wantDelim, wantTags := "comma", "semicolon"
		if v := c.fields["delimiter"]; v != "" {
			wantDelim = v
		}
		if v := c.fields["tag_separator"]; v != "" {
			wantTags = v
		}
		require.Equal(t, wantDelim, got["delimiter"], c.name)
		require.Equal(t, wantTags, got["tag_separator"], c.name)
		var id int64
		require.NoError(t, a.pool.QueryRow(a.ctx, `SELECT id FROM contacts WHERE email = $1`, c.email).Scan(&id), c.name)
		ct, err := Get(a.ctx, a.pool, id)
		require.NoError(t, err)
		require.ElementsMatch(t, c.tags, ct.Tags, c.name)
		require.Equal(t, c.city, ct.Attributes["city"], c.name)
	}

	// Unknown choices: refused with the field, nothing stored.
	for field, bad := range map[string]string{"delimiter": "pipe", "tag_separator": "tab"} {
		code, body := a.upload("email\nx@example.com\n", map[string]string{field: bad})
		require.Equal(t, http.StatusUnprocessableEntity, code, body)
		require.Equal(t, field, body["error"].(map[string]any)["field"], body)
	}
	var n int
	require.NoError(t, a.pool.QueryRow(a.ctx, `SELECT count(*) FROM imports`).Scan(&n))
	require.Equal(t, len(cases), n, "a refused upload leaves no import behind")
}
