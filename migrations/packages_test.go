package migrations_test

import (
	"bufio"
	"fmt"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const module = "github.com/peykar/peykar/"

var (
	mermaidNode = regexp.MustCompile(`^\s*([A-Za-z0-9_]+)\["([a-z0-9_/]+)"\]\s*$`)
	mermaidEdge = regexp.MustCompile(`^\s*([A-Za-z0-9_]+)\s*-->\s*([A-Za-z0-9_]+)\s*$`)
)

// packageImports maps each package directory of the server (not bench, not
// tests) to the module packages its non-test files import.
func packageImports(t *testing.T, root string) map[string]map[string]bool {
	t.Helper()
	out := map[string]map[string]bool{}
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() {
			if rel == "bench" || (strings.HasPrefix(d.Name(), ".") && rel != ".") || d.Name() == "testdata" || d.Name() == "node_modules" {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		pkg := filepath.ToSlash(filepath.Dir(rel))
		if out[pkg] == nil {
			out[pkg] = map[string]bool{}
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if strings.HasPrefix(p, module) {
				out[pkg][strings.TrimPrefix(p, module)] = true
			}
		}
		return nil
	})
	require.NoError(t, err)
	return out
}

// TestArchitectureGraphIsTrue holds the package diagram in
// docs/architecture.md to the code: among the packages it draws, an arrow
// is there exactly when the package imports the other.
func TestArchitectureGraphIsTrue(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	f, err := os.Open(filepath.Join(root, "docs", "architecture.md"))
	require.NoError(t, err)
	defer f.Close()
	ids := map[string]string{}
	drawn := map[[2]string]bool{}
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "```mermaid"):
			in = true
			continue
		case strings.HasPrefix(line, "```"):
			in = false
			continue
		}
		if !in {
			continue
		}
		if m := mermaidNode.FindStringSubmatch(line); m != nil {
			ids[m[1]] = m[2]
		}
		if m := mermaidEdge.FindStringSubmatch(line); m != nil {
			drawn[[2]string{m[1], m[2]}] = true
		}
	}
	require.NoError(t, sc.Err())
	require.NotEmpty(t, ids, "docs/architecture.md draws no packages")

	imports := packageImports(t, root)
	pkgs := make([]string, 0, len(ids))
	idOf := map[string]string{}
	for id, p := range ids {
		require.Contains(t, imports, p, "docs/architecture.md draws %s, which is not a package", p)
		pkgs = append(pkgs, p)
		idOf[p] = id
	}
	sort.Strings(pkgs)
	var want []string
	var problems []string
	for _, a := range pkgs {
		for _, b := range pkgs {
			has := imports[a][b]
			if has {
				want = append(want, fmt.Sprintf("    %s --> %s", idOf[a], idOf[b]))
			}
			switch d := drawn[[2]string{idOf[a], idOf[b]}]; {
			case has && !d:
				problems = append(problems, fmt.Sprintf("%s imports %s: the diagram lacks the arrow", a, b))
			case !has && d:
				problems = append(problems, fmt.Sprintf("%s does not import %s: the diagram draws an arrow", a, b))
			}
		}
	}
	for e := range drawn {
		if ids[e[0]] == "" || ids[e[1]] == "" {
			problems = append(problems, fmt.Sprintf("arrow %s --> %s names an undeclared node", e[0], e[1]))
		}
	}
	sort.Strings(problems)
	require.Empty(t, problems, "docs/architecture.md's package diagram is out of date; its arrows are:\n%s", strings.Join(want, "\n"))
}

// TestNoTestSleeps: tests wait on events (River's Subscribe, channels,
// polling with a deadline) or move an injected clock; a sleep either wastes
// time or races a busy machine.
func TestNoTestSleeps(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	var found []string
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if strings.HasPrefix(d.Name(), ".") && path != root || d.Name() == "node_modules" {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for i, line := range strings.Split(string(b), "\n") {
			if strings.Contains(line, "time."+"Sleep(") {
				rel, _ := filepath.Rel(root, path)
				found = append(found, fmt.Sprintf("%s:%d: %s", rel, i+1, strings.TrimSpace(line)))
			}
		}
		return nil
	})
	require.NoError(t, err)
	require.Empty(t, found, "tests must not sleep:\n%s", strings.Join(found, "\n"))
}
