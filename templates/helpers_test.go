package templates

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/internal/errs"
)

// fakeTracker makes readable, deterministic tracking URLs.
type fakeTracker struct{}

func (fakeTracker) ClickURL(idx int, target string) string {
	return fmt.Sprintf("https://t.example/c/%d?to=%s", idx, target)
}
func (fakeTracker) OpenURL() string        { return "https://t.example/o.gif" }
func (fakeTracker) UnsubscribeURL() string { return "https://t.example/u/tok" }
func (fakeTracker) PreferencesURL() string { return "https://t.example/p/tok" }
func (fakeTracker) HoneypotURL() string    { return "https://t.example/h/tok" }

func mustCompile(t testing.TB, tmpl Template) *Compiled {
	t.Helper()
	if tmpl.Subject == "" {
		tmpl.Subject = "Hello"
	}
	c, err := Compile(tmpl)
	require.NoError(t, err)
	return c
}

func render(t testing.TB, c *Compiled, d Data, tr Tracker) *Rendered {
	t.Helper()
	r, err := c.Render(d, tr)
	require.NoError(t, err)
	return r
}

// requireFieldError asserts err is an Invalid *errs.Error about field at
// line:col whose message contains msg.
func requireFieldError(t *testing.T, err error, field string, line, col int, msg string) {
	t.Helper()
	require.Error(t, err)
	var e *errs.Error
	require.True(t, errors.As(err, &e), "want *errs.Error, got %T: %v", err, err)
	require.Equal(t, errs.Invalid, e.Code, e.Error())
	require.Equal(t, field, e.Field, e.Error())
	require.Equal(t, line, e.Line, e.Error())
	require.Equal(t, col, e.Column, e.Error())
	require.Contains(t, e.Message, msg)
}

var sara = Contact{ID: 7, Email: "sara@example.com", Name: "Sara", Attributes: map[string]any{"city": "Tehran", "balance": 1234.5}}
