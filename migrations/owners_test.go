package migrations_test

import (
	"bufio"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The table → owner map lives in docs/architecture.md ("Table owners"), so
// the document a newcomer reads is the one this test holds the code to.
// Every table the migrations create must have exactly one owning package,
// and no other package of the server may write it: INSERT, UPDATE, DELETE,
// COPY or TRUNCATE in a Go string literal or a .sql file, or a
// pgx.Identifier handed to CopyFrom. Tests, the benchmark programs and the
// migrations themselves are outside the rule (they build fixtures and
// schema, not behaviour).

var (
	createTable = regexp.MustCompile(`(?i)create\s+(?:unlogged\s+)?table\s+(?:if\s+not\s+exists\s+)?([a-z_][a-z0-9_]*)`)
	writeStmt   = regexp.MustCompile(`(?i)\b(?:insert\s+into|update|delete\s+from|copy|truncate(?:\s+table)?)\s+(?:only\s+)?"?([a-z_][a-z0-9_]*)"?`)
	ownerRow    = regexp.MustCompile("^\\|\\s*`([a-z_0-9]+)`\\s*\\|\\s*`([a-z0-9_/]+)`\\s*\\|")
)

func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs("..")
	require.NoError(t, err)
	_, err = os.Stat(filepath.Join(dir, "go.mod"))
	require.NoError(t, err, "the repository root is the migrations package's parent")
	return dir
}

// schemaTables returns every table the migrations create.
func schemaTables(t *testing.T, root string) map[string]bool {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(root, "migrations", "sql", "*.sql"))
	require.NoError(t, err)
	tables := map[string]bool{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		for _, m := range createTable.FindAllStringSubmatch(string(b), -1) {
			tables[strings.ToLower(m[1])] = true
		}
	}
	require.NotEmpty(t, tables)
	return tables
}

// documentedOwners reads the "Table owners" table of docs/architecture.md.
func documentedOwners(t *testing.T, root string) map[string]string {
	t.Helper()
	f, err := os.Open(filepath.Join(root, "docs", "architecture.md"))
	require.NoError(t, err)
	defer f.Close()
	owners := map[string]string{}
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "## ") {
			in = strings.TrimSpace(line) == "## Table owners"
			continue
		}
		if !in {
			continue
		}
		if m := ownerRow.FindStringSubmatch(line); m != nil {
			require.NotContains(t, owners, m[1], "docs/architecture.md names two owners for %s", m[1])
			owners[m[1]] = m[2]
		}
	}
	require.NoError(t, sc.Err())
	require.NotEmpty(t, owners, `docs/architecture.md has no "## Table owners" table`)
	return owners
}

type write struct{ table, pkg, where string }

// writes finds every table write in the server's source.
func writes(t *testing.T, root string, tables map[string]bool) []write {
	t.Helper()
	var out []write
	add := func(pkg, where, text string) {
		for _, m := range writeStmt.FindAllStringSubmatch(text, -1) {
			if name := strings.ToLower(m[1]); tables[name] {
				out = append(out, write{name, pkg, where})
			}
		}
	}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() {
			switch rel {
			case ".git", "bench", "migrations", "docs", "node_modules":
				return filepath.SkipDir
			}
			if strings.HasPrefix(d.Name(), ".") && rel != "." {
				return filepath.SkipDir
			}
			return nil
		}
		pkg := filepath.ToSlash(filepath.Dir(rel))
		switch {
		case strings.HasSuffix(path, "_test.go"):
			return nil
		case strings.HasSuffix(path, ".sql"):
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			add(pkg, rel, stripSQLComments(string(b)))
		case strings.HasSuffix(path, ".go"):
			fset := token.NewFileSet()
			file, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
			if err != nil {
				return err
			}
			ast.Inspect(file, func(n ast.Node) bool {
				switch x := n.(type) {
				case *ast.BasicLit:
					if x.Kind == token.STRING {
						if s, err := strconv.Unquote(x.Value); err == nil {
							add(pkg, fset.Position(x.Pos()).String(), stripSQLComments(s))
						}
					}
				case *ast.CompositeLit:
					// pgx.Identifier{"table"} handed to CopyFrom.
					if sel, ok := x.Type.(*ast.SelectorExpr); ok && sel.Sel.Name == "Identifier" && len(x.Elts) > 0 {
						if lit, ok := x.Elts[len(x.Elts)-1].(*ast.BasicLit); ok {
							if s, err := strconv.Unquote(lit.Value); err == nil && tables[s] {
								out = append(out, write{s, pkg, fset.Position(x.Pos()).String()})
							}
						}
					}
				}
				return true
			})
		}
		return nil
	})
	require.NoError(t, err)
	return out
}

var sqlComment = regexp.MustCompile(`--[^\n]*`)

func stripSQLComments(s string) string { return sqlComment.ReplaceAllString(s, "") }

func TestEachTableHasOneWritingPackage(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	tables := schemaTables(t, root)
	owners := documentedOwners(t, root)

	var problems []string
	for table := range tables {
		if _, ok := owners[table]; !ok {
			problems = append(problems, "table "+table+" has no owner in docs/architecture.md")
		}
	}
	for table := range owners {
		if !tables[table] {
			problems = append(problems, "docs/architecture.md names an owner for "+table+", which no migration creates")
		}
	}
	for _, w := range writes(t, root, tables) {
		if owner := owners[w.table]; owner != "" && owner != w.pkg {
			problems = append(problems, w.where+": package "+w.pkg+" writes "+w.table+", owned by "+owner)
		}
	}
	sort.Strings(problems)
	require.Empty(t, problems, "each table is written by its owner only; call the owner's functions with a DBTX instead:\n%s", strings.Join(problems, "\n"))
}

// TestOwnershipCheckSeesWrites keeps the check honest: the scanner must find
// the kinds of write it claims to find.
func TestOwnershipCheckSeesWrites(t *testing.T) {
	t.Parallel()
	tables := map[string]bool{"deliveries": true, "contacts": true, "events": true, "rollups": true, "settings": true}
	for _, tc := range []struct{ sql, want string }{
		{"INSERT INTO deliveries (a) VALUES (1)", "deliveries"},
		{"update contacts SET status = 'x'", "contacts"},
		{"WITH x AS (DELETE FROM events WHERE true RETURNING 1) SELECT 1", "events"},
		{`COPY "rollups" FROM STDIN`, "rollups"},
		{"TRUNCATE TABLE settings", "settings"},
		{"SELECT 1 FROM deliveries FOR UPDATE SKIP LOCKED", ""},
		{"INSERT INTO x (a) VALUES (1) ON CONFLICT (a) DO UPDATE SET a = 1", ""},
		{"-- UPDATE contacts in a comment\nSELECT 1", ""},
	} {
		var got []string
		for _, m := range writeStmt.FindAllStringSubmatch(stripSQLComments(tc.sql), -1) {
			if tables[strings.ToLower(m[1])] {
				got = append(got, strings.ToLower(m[1]))
			}
		}
		if tc.want == "" {
			require.Empty(t, got, tc.sql)
		} else {
			require.Equal(t, []string{tc.want}, got, tc.sql)
		}
	}
}
