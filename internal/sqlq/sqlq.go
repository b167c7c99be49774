// Package sqlq loads the named SQL queries a package keeps beside its code.
//
// A package that owns tables keeps its statements in .sql files next to its
// Go files, each statement under a "-- name: x" line (comments after the
// name line document the query), embeds them, and looks them up by name:
//
//	//go:embed queries.sql
//	var queriesFS embed.FS
//
//	var queries = sqlq.MustLoad(queriesFS)
//
//	row := db.QueryRow(ctx, queries.Get("get_contact"), id)
//
// Only dynamic SQL (the segment compiler's translations, generated batch
// statements) is built in Go. Check, in a package's tests, prepares every
// query against the migrated schema, so a typo fails the tests, not a
// request.
package sqlq

import (
	"context"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

// Set is a package's named queries.
type Set struct {
	byName map[string]string
	from   map[string]string // name → file, for messages
}

// MustLoad reads every *.sql file at the root of fsys. It panics on a
// duplicate or empty query: the files are part of the binary, so that is a
// programming error found by the first test.
func MustLoad(fsys fs.FS) *Set {
	s, err := Load(fsys)
	if err != nil {
		panic(err)
	}
	return s
}

// Load reads every *.sql file at the root of fsys.
func Load(fsys fs.FS) (*Set, error) {
	files, err := fs.Glob(fsys, "*.sql")
	if err != nil {
		return nil, fmt.Errorf("sqlq: %w", err)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("sqlq: no .sql files")
	}
	s := &Set{byName: map[string]string{}, from: map[string]string{}}
	for _, f := range files {
		b, err := fs.ReadFile(fsys, f)
		if err != nil {
			return nil, fmt.Errorf("sqlq: %w", err)
		}
		if err := s.add(path.Base(f), string(b)); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Parse reads one file's text; for a package that embeds a single string.
func Parse(file, src string) (*Set, error) {
	s := &Set{byName: map[string]string{}, from: map[string]string{}}
	return s, s.add(file, src)
}

func (s *Set) add(file, src string) error {
	parts := strings.Split(src, "-- name: ")
	for _, part := range parts[1:] {
		name, body, _ := strings.Cut(part, "\n")
		name = strings.TrimSpace(name)
		body = strings.TrimSpace(body)
		if name == "" || strings.ContainsAny(name, " \t") {
			return fmt.Errorf("sqlq: %s: bad query name %q", file, name)
		}
		if prev, ok := s.from[name]; ok {
			return fmt.Errorf("sqlq: %s: query %s already defined in %s", file, name, prev)
		}
		if stripComments(body) == "" {
			return fmt.Errorf("sqlq: %s: query %s is empty", file, name)
		}
		s.byName[name] = body
		s.from[name] = file
	}
	return nil
}

// Get returns the query called name. It panics when there is none: query
// names are constants in the code, and Check's test runs them all.
func (s *Set) Get(name string) string {
	q, ok := s.byName[name]
	if !ok {
		panic("sqlq: no query " + name)
	}
	return q
}

// Names lists the queries, sorted.
func (s *Set) Names() []string {
	out := make([]string, 0, len(s.byName))
	for n := range s.byName {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Preparer is what Check needs: a *pgx.Conn, or a pool's acquired conn's
// Conn().
type Preparer interface {
	Prepare(ctx context.Context, name, sql string) (*pgconn.StatementDescription, error)
}

// Check prepares every query of the set against a migrated database, so a
// misspelt column or a query left behind by a migration fails a test.
func (s *Set) Check(ctx context.Context, db Preparer) error {
	var problems []string
	for _, name := range s.Names() {
		if _, err := db.Prepare(ctx, "", s.byName[name]); err != nil {
			problems = append(problems, fmt.Sprintf("%s (%s): %v", name, s.from[name], err))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("sqlq: %d queries do not prepare:\n%s", len(problems), strings.Join(problems, "\n"))
	}
	return nil
}

func stripComments(q string) string {
	var b strings.Builder
	for _, line := range strings.Split(q, "\n") {
		if t := strings.TrimSpace(line); t != "" && !strings.HasPrefix(t, "--") {
			b.WriteString(t)
		}
	}
	return b.String()
}
