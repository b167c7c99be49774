package tracking

import (
	"embed"

	"github.com/peykar/peykar/internal/sqlq"
)

//go:embed *.sql
var queriesFS embed.FS

// queries are the package's static statements (queries.sql): on the tables
// it owns (events, the rollup tables, campaign_people) and its reads of
// others'. Statements built from a batch's shape stay in Go.
var queries = sqlq.MustLoad(queriesFS)

func query(name string) string { return queries.Get(name) }
