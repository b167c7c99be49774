package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/migrations/pgtest"
)

// TestImportEventsCommand: `peykar import --events` loads history for
// known contacts, reports a bad line by its number, refuses an unknown
// email unless --create-contacts is given, and counts purchases.
func TestImportEventsCommand(t *testing.T) {
	t.Parallel()
	dsn := pgtest.NewDSN(t)
	env := map[string]string{"DATABASE_URL": dsn, "PEYKAR_DATA_DIR": t.TempDir()}
	getenv := func(k string) string { return env[k] }
	people := filepath.Join(t.TempDir(), "people.csv")
	require.NoError(t, os.WriteFile(people, []byte("email\nsara@example.com\n"), 0o600))
	var out, errb bytes.Buffer
	require.Equal(t, 0, Run(context.Background(), []string{"import", people}, getenv, &out, &errb), errb.String())

	events := filepath.Join(t.TempDir(), "events.csv")
	require.NoError(t, os.WriteFile(events, []byte("email,type,occurred_at,value,currency,attr.order\n"+
		"sara@example.com,purchase,2025-06-01T12:00:00Z,30,EUR,A-1\n"+
		"sara@example.com,purchase,June 1st,30,EUR,A-2\n"+
		"new@example.com,signup,2025-06-02,,,\n"), 0o600))
	out.Reset()
	errb.Reset()
	code := Run(context.Background(), []string{"import", "--events", events}, getenv, &out, &errb)
	require.Equal(t, 0, code, "stdout: %s\nstderr: %s", out.String(), errb.String())
	require.Contains(t, out.String(), "line 3: occurred_at")
	require.Contains(t, out.String(), "line 4: no contact with email new@example.com")
	require.Contains(t, out.String(), "3 lines, 1 stored")

	out.Reset()
	errb.Reset()
	code = Run(context.Background(), []string{"import", "--events", "--create-contacts", events}, getenv, &out, &errb)
	require.Equal(t, 0, code, "stdout: %s\nstderr: %s", out.String(), errb.String())
	require.Contains(t, out.String(), "3 lines, 2 stored", "without keys, the purchase is stored again; the new contact is created")

	conn, err := pgx.Connect(context.Background(), dsn)
	require.NoError(t, err)
	defer conn.Close(context.Background())
	var conversions, signups int
	require.NoError(t, conn.QueryRow(context.Background(), `SELECT conversions FROM contacts WHERE email = 'sara@example.com'`).Scan(&conversions))
	require.Equal(t, 2, conversions)
	require.NoError(t, conn.QueryRow(context.Background(), `SELECT count(*) FROM transactions t JOIN contacts c ON c.id = t.contact_id
		WHERE c.email = 'new@example.com' AND t.type = 'signup'`).Scan(&signups))
	require.Equal(t, 1, signups)
}
