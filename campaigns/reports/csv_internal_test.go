package reports

import (
	"testing"

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
