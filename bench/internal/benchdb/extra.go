package benchdb

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"
)

// ExtraSettings parses a benchmark's -pgset list, "name=value,name=value"
// (BENCH_PG_SET for the clusters benchdb starts): server settings on top
// of the defaults, so a tuned run can be reproduced from its command line.
// Malformed entries are skipped; PrintExtraSettings shows what the server
// took.
func ExtraSettings(list string) map[string]string {
	s := map[string]string{}
	for _, kv := range strings.Split(list, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
		if ok && k != "" {
			s[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	return s
}

// PrintExtraSettings prints, labelled, the value the server runs with for
// each setting of list: a tuned cluster, not the default one.
func PrintExtraSettings(ctx context.Context, pool *pgxpool.Pool, list string) error {
	s := ExtraSettings(list)
	if len(s) == 0 {
		return nil
	}
	names := make([]string, 0, len(s))
	for k := range s {
		names = append(names, k)
	}
	sort.Strings(names)
	got := make([]string, 0, len(names))
	for _, k := range names {
		var v string
		if err := pool.QueryRow(ctx, `SELECT current_setting($1)`, k).Scan(&v); err != nil {
			return fmt.Errorf("-pgset %s: %w", k, err)
		}
		got = append(got, k+"="+v)
	}
	fmt.Printf("SERVER SETTINGS (-pgset), not the default cluster: %s\n", strings.Join(got, " "))
	return nil
}
