package engine

import (
	"embed"

	"github.com/peykar/peykar/internal/sqlq"
)

//go:embed queries.sql
var queriesFS embed.FS

// queries are the engine's statements on the tables it owns (queries.sql).
var queries = sqlq.MustLoad(queriesFS)
