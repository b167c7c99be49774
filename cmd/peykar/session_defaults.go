package main

import (
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"
)

// sessionDefaults sets the session settings Peykar's statements are written
// for, unless the database URL sets them itself (`?jit=on`, or `options`
// naming the setting).
//
// jit = off: Peykar's statements are short and run thousands of times a
// second, over arrays the planner cannot see into; when an estimate passes
// jit_above_cost (a lateral probe per element of an array of ids, or a
// table not analyzed yet), PostgreSQL compiles the statement with LLVM on
// every execution, 15–30 ms each time, for a statement that runs in a few.
// The tracking fold's clicked-links read was measured at 31 ms per call
// with JIT and 7 ms without (EXPLAIN ANALYZE, 500 deliveries). The few
// reads that scan much (analytics, exports) set it themselves per
// transaction already.
func sessionDefaults(pcfg *pgxpool.Config) {
	params := pcfg.ConnConfig.RuntimeParams
	if _, set := params["jit"]; set || strings.Contains(params["options"], "jit") {
		return
	}
	params["jit"] = "off"
}
