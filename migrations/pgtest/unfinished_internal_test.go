package pgtest

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRemoveUnfinishedClusterOnly(t *testing.T) {
	unfinished := filepath.Join(t.TempDir(), "data")
	require.NoError(t, os.MkdirAll(filepath.Join(unfinished, "global"), 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(unfinished, "global", "pg_control"), []byte("x"), 0o600))
	require.NoError(t, removeUnfinished(unfinished))
	_, err := os.Stat(unfinished)
	require.ErrorIs(t, err, os.ErrNotExist, "an initdb that never wrote PG_VERSION is removed")

	cluster := filepath.Join(t.TempDir(), "data")
	require.NoError(t, os.MkdirAll(cluster, 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(cluster, "PG_VERSION"), []byte("15\n"), 0o600))
	require.NoError(t, removeUnfinished(cluster))
	_, err = os.Stat(filepath.Join(cluster, "PG_VERSION"))
	require.NoError(t, err, "a cluster is kept")

	require.NoError(t, removeUnfinished(filepath.Join(t.TempDir(), "absent")))
}
