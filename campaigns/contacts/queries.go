package contacts

import (
	"embed"

	"github.com/peykar/peykar/internal/sqlq"
)

//go:embed *.sql
var queriesFS embed.FS

// queries are the package's static statements on the tables it owns
// (contacts, transactions, suppressions, imports, import_chunks), from the
// .sql files beside this one. The segment compiler's SQL is generated, so
// it stays in Go.
var queries = sqlq.MustLoad(queriesFS)

func query(name string) string { return queries.Get(name) }
