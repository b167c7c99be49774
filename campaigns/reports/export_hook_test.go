package reports

// SingleStatementExport makes the deliveries export use one statement (v)
// or two connections when the pool allows (!v).
func SingleStatementExport(v bool) { singleStatementExport.Store(v) }
