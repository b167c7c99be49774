package migrations

import (
	"fmt"
	"io/fs"
	"regexp"
	"strconv"
	"strings"
)

// separator divides a migration file into its up and down SQL.
const separator = "---- create above / drop below ----"

var fileName = regexp.MustCompile(`^(\d+)_[a-z0-9_]+\.sql$`)

type file struct{ name, up, down string }

// load reads the embedded migrations in number order. A number with no file
// (reserved by work in progress) becomes an empty migration, so a file's
// number is always its schema version and later files never shift.
func load() ([]file, error) {
	entries, err := fs.ReadDir(FS(), ".")
	if err != nil {
		return nil, err
	}
	byNum := map[int]file{}
	highest := 0
	for _, e := range entries {
		m := fileName.FindStringSubmatch(e.Name())
		if m == nil {
			return nil, fmt.Errorf("migration file %q is not named NNN_name.sql", e.Name())
		}
		n, _ := strconv.Atoi(m[1])
		if prev, dup := byNum[n]; dup {
			return nil, fmt.Errorf("migrations %s and %s share number %d", prev.name, e.Name(), n)
		}
		b, err := fs.ReadFile(FS(), e.Name())
		if err != nil {
			return nil, err
		}
		up, down, _ := strings.Cut(string(b), separator)
		byNum[n] = file{name: e.Name(), up: up, down: down}
		highest = max(highest, n)
	}
	out := make([]file, highest)
	for i := range out {
		f, ok := byNum[i+1]
		if !ok {
			f = file{name: fmt.Sprintf("%03d_reserved.sql", i+1), up: "SELECT 1;"}
		}
		out[i] = f
	}
	return out, nil
}
