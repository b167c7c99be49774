package main

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"
)

// Peykar's sessions run without JIT (a compile on every execution of a
// statement whose estimate passes jit_above_cost costs more than the
// statement), unless the database URL asks for it.
func TestSessionsRunWithoutJIT(t *testing.T) {
	t.Parallel()
	m := testMain(t)
	var jit string
	require.NoError(t, m.pool.QueryRow(context.Background(), `SELECT current_setting('jit')`).Scan(&jit))
	require.Equal(t, "off", jit)

	for dsn, want := range map[string]string{
		"postgres://u@db.example/peykar":                            "off",
		"postgres://u@db.example/peykar?jit=on":                     "on",
		"postgres://u@db.example/peykar?options=-c%20jit%3Don":      "",
		"postgres://u@db.example/peykar?application_name=reporting": "off",
	} {
		pcfg, err := pgxpool.ParseConfig(dsn)
		require.NoError(t, err)
		sessionDefaults(pcfg)
		require.Equal(t, want, pcfg.ConnConfig.RuntimeParams["jit"], dsn)
	}
}
