package safetext

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/internal/errs"
)

// fieldOf returns the field and message of an errs.Invalid.
func fieldOf(t *testing.T, err error) (string, string) {
	t.Helper()
	var de *errs.Error
	require.True(t, errors.As(err, &de), "want *errs.Error, got %v", err)
	require.Equal(t, errs.Invalid, de.Code)
	return de.Field, de.Message
}

func TestJSONNamesThePathOfTheFirstNUL(t *testing.T) {
	t.Parallel()
	for doc, want := range map[string]string{
		`{"name":"a\u0000b"}`: "name",
		`{"email":"a@b.example","attributes":{"city":"T\u0000"}}`: "attributes.city",
		`{"attributes":{"ci\u0000ty":"Tehran"}}`:                  `attributes.ci\u0000ty`,
		`{"tags":["ok","bad\u0000"]}`:                             "tags[1]",
		`{"steps":[{"key":"a"},{"key":"\u0000"}]}`:                "steps[1].key",
		`{"a":[[1,2],{"b":[true,null,"\u0000"]}]}`:                "a[1].b[2]",
		`{"a":{"b":{}},"c":"\u0000"}`:                             "c",
		`["x","\u0000"]`:                                          "[1]",
	} {
		field, msg := fieldOf(t, JSON([]byte(doc)))
		require.Equal(t, want, field, doc)
		require.Contains(t, msg, "NUL", doc)
	}
	for _, doc := range []string{
		`{"name":"plain"}`, `{"name":"\\u0000 is how JSON writes NUL"}`, `{"a":"\u0001"}`,
		`{"a" "\u0000"}`, // malformed before the NUL: left to the decoder
		``, `null`,
	} {
		require.NoError(t, JSON([]byte(doc)), doc)
	}
}

func TestValueNamesThePathOfTheFirstNUL(t *testing.T) {
	t.Parallel()
	field, _ := fieldOf(t, Value("attributes", map[string]any{"z": "\x00", "a": []any{1.0, map[string]any{"k": "v\x00"}}}))
	require.Equal(t, "attributes.a[1].k", field, "keys in sorted order: a before z")
	field, msg := fieldOf(t, Value("attributes", map[string]any{"c\x00": "x"}))
	require.Equal(t, `attributes.c\u0000`, field)
	require.Contains(t, msg, "name")
	require.NoError(t, Value("attributes", map[string]any{"note": "two\nlines", "n": 3.0, "b": true, "x": nil}))
}

func TestLineRefusesControlCharacters(t *testing.T) {
	t.Parallel()
	require.NoError(t, Line("from.name", "Shop — فروشگاه"))
	for s, want := range map[string]string{
		"Shop\r\nBcc: x@y.example": "carriage return (U+000D)",
		"Shop\nX":                  "line feed (U+000A)",
		"a\tb":                     "tab (U+0009)",
		"a\x7fb":                   "control character (U+007F)",
		"a\u0085b":                 "control character (U+0085)",
		"a\x00b":                   "NUL",
	} {
		field, msg := fieldOf(t, Line("from.name", s))
		require.Equal(t, "from.name", field)
		require.Contains(t, msg, want, "%q", s)
	}
	require.NoError(t, Text("html", "two\r\nlines\tand a tab"))
	field, _ := fieldOf(t, Text("html", "x\x00"))
	require.Equal(t, "html", field)
}

// FuzzJSON checks that JSON reports a NUL exactly when the decoded
// document holds one, and never panics.
func FuzzJSON(f *testing.F) {
	for _, s := range []string{
		`{"name":"a\u0000"}`, `{"attributes":{"\u0000":1}}`, `[[["\u0000"]]]`, `{"a":"\\u0000"}`,
		`{"a":[{"b":"c"},"\u0000"]}`, `"\u0000"`, `{"a":`, `}`, `]]`, `{"a":1}{"b":"\u0000"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		err := JSON(data)
		var v any
		dec := json.NewDecoder(bytes.NewReader(data))
		if dec.Decode(&v) != nil {
			return // malformed: nothing to compare
		}
		if valueHasNUL(v) && err == nil {
			// Only the first document of a stream is checked by Decode;
			// JSON looks at all of them, so it may report more, never less.
			t.Fatalf("%q: decoded value holds a NUL but JSON passed it", data)
		}
		if err != nil {
			fieldOf(t, err)
		}
	})
}
