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

// TestImportCommandChoices: `peykar import` takes the import page's
// choices — a semicolon-separated file whose tags are split by "|" — and
// refuses an unknown one with a message naming it.
func TestImportCommandChoices(t *testing.T) {
	t.Parallel()
	dsn := pgtest.NewDSN(t)
	env := map[string]string{"DATABASE_URL": dsn, "PEYKAR_DATA_DIR": t.TempDir()}
	getenv := func(k string) string { return env[k] }
	path := filepath.Join(t.TempDir(), "people.csv")
	require.NoError(t, os.WriteFile(path, []byte("email;name;tags;city\nsara@example.com;Sara;vip|news;Tehran\nali@example.com;Ali, Jr.;news;Shiraz\n"), 0o600))

	var out, errb bytes.Buffer
	code := Run(context.Background(), []string{"import", "--delimiter", "semicolon", "--tag-separator", "pipe", path}, getenv, &out, &errb)
	require.Equal(t, 0, code, "stdout: %s\nstderr: %s", out.String(), errb.String())
	require.Contains(t, out.String(), "2 rows, 2 inserted")

	conn, err := pgx.Connect(context.Background(), dsn)
	require.NoError(t, err)
	defer conn.Close(context.Background())
	var name, city string
	var tags []string
	require.NoError(t, conn.QueryRow(context.Background(),
		`SELECT name, tags, attributes->>'city' FROM contacts WHERE email = 'sara@example.com'`).Scan(&name, &tags, &city))
	require.Equal(t, "Sara", name)
	require.ElementsMatch(t, []string{"vip", "news"}, tags)
	require.Equal(t, "Tehran", city)
	require.NoError(t, conn.QueryRow(context.Background(), `SELECT name FROM contacts WHERE email = 'ali@example.com'`).Scan(&name))
	require.Equal(t, "Ali, Jr.", name, "a comma is text in a semicolon file")

	out.Reset()
	errb.Reset()
	code = Run(context.Background(), []string{"import", "--delimiter", "colon", path}, getenv, &out, &errb)
	require.NotEqual(t, 0, code)
	require.Contains(t, errb.String(), "delimiter")
}
