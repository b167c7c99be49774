package templates

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// TestGolden renders full messages from testdata/NAME.html and compares
// them with testdata/NAME[-VARIANT].golden. Run with -update to rewrite.
func TestGolden(t *testing.T) {
	t.Parallel()
	created := time.Date(2025, 3, 21, 9, 30, 0, 0, time.UTC)
	cases := []struct {
		golden, input, subject string
		data                   Data
		tracker                Tracker
	}{
		{"welcome", "welcome", "Welcome to {{ .Campaign.Name }}, {{ .Contact.Name | default \"friend\" }}",
			Data{Contact: Contact{ID: 42, Email: "sara@example.com", Name: "Sara <Admin> & Co",
				Attributes: map[string]any{"city": "Tehran", "balance": 1234567.891}, Tags: []string{"vip", "early"}, CreatedAt: created},
				Campaign: Campaign{ID: 12, Name: "Spring"}}, fakeTracker{}},
		{"welcome-preview", "welcome", "Welcome to {{ .Campaign.Name }}, {{ .Contact.Name | default \"friend\" }}",
			Data{Contact: Contact{ID: 43, Email: "x@example.com", Attributes: map[string]any{"balance": 0}, CreatedAt: created},
				Campaign: Campaign{ID: 12, Name: "Spring"}}, nil},
		{"persian", "persian", "{{ .Contact.Name }} عزیز، حراج بهار شروع شد",
			Data{Contact: Contact{ID: 7, Email: "sara@example.com", Name: "سارا", Attributes: map[string]any{"city": "اصفهان"}},
				Campaign: Campaign{ID: 3, Name: "کمپین بهار"}}, fakeTracker{}},
	}
	for _, tc := range cases {
		t.Run(tc.golden, func(t *testing.T) {
			t.Parallel()
			html, err := os.ReadFile(filepath.Join("testdata", tc.input+".html"))
			require.NoError(t, err)
			c := mustCompile(t, Template{Subject: tc.subject, HTML: string(html)})
			r := render(t, c, tc.data, tc.tracker)
			links, err := json.MarshalIndent(c.Links(), "", "  ")
			require.NoError(t, err)
			got := strings.Join([]string{
				"Subject: " + r.Subject,
				"===== html =====", r.HTML,
				"===== text =====", r.Text,
				"===== links =====", string(links), "",
			}, "\n")
			path := filepath.Join("testdata", tc.golden+".golden")
			if *update {
				require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
			}
			want, err := os.ReadFile(path)
			require.NoError(t, err, "run go test -run TestGolden -update to create it")
			require.Equal(t, string(want), got)
		})
	}
}
