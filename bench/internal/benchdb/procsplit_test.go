package benchdb

import (
	"bytes"
	"context"
	"regexp"
	"strconv"
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestExtraSettings(t *testing.T) {
	got := ExtraSettings(" wal_sync_method=open_datasync, commit_delay = 100,bad,=x,")
	if len(got) != 2 || got["wal_sync_method"] != "open_datasync" || got["commit_delay"] != "100" {
		t.Fatalf("ExtraSettings: %v", got)
	}
	if len(ExtraSettings("")) != 0 {
		t.Fatal("an empty list must set nothing")
	}
}

// TestProcSplitChargesEachBackend runs work on the benchmark's own pool
// and on another connection of a real cluster, and checks that the split
// charges each to its role.
func TestProcSplitChargesEachBackend(t *testing.T) {
	ctx := context.Background()
	c, err := OpenCluster(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	other, err := pgx.Connect(ctx, c.DSN)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = other.Close(ctx) }()
	split, err := StartProcSplit(c.DataDir, c.Own)
	if err != nil {
		t.Fatal(err)
	}
	defer split.Stop()
	const spin = `SELECT count(*) FROM generate_series(1, 3000000)`
	if _, err := c.Pool.Exec(ctx, spin); err != nil {
		t.Fatal(err)
	}
	if _, err := other.Exec(ctx, spin); err != nil {
		t.Fatal(err)
	}
	split.Mark("test")
	var out bytes.Buffer
	split.Print(&out, 1000)
	for _, role := range []string{`the bench's own connections`, `client backends \(peykar\)`} {
		m := regexp.MustCompile(role + ` ([\d.]+) \(`).FindStringSubmatch(out.String())
		if m == nil {
			t.Fatalf("no %s in %q", role, out.String())
		}
		if v, _ := strconv.ParseFloat(m[1], 64); v <= 0 {
			t.Fatalf("%s charged nothing: %q", role, out.String())
		}
	}
}
