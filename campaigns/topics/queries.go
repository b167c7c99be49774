package topics

import (
	"embed"

	"github.com/peykar/peykar/internal/sqlq"
)

//go:embed *.sql
var queriesFS embed.FS

// queries are the package's statements on topics, contact_topics and
// consent_records (queries.sql).
var queries = sqlq.MustLoad(queriesFS)
