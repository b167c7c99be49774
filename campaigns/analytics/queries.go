package analytics

import (
	"embed"

	"github.com/peykar/peykar/internal/sqlq"
)

//go:embed *.sql
var queriesFS embed.FS

// queries are the package's named statements (queries.sql).
var queries = sqlq.MustLoad(queriesFS)

func query(name string) string { return queries.Get(name) }
