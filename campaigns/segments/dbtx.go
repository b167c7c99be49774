package segments

import "github.com/peykar/peykar/campaigns/contacts"

// DBTX is what store and match functions take: a *pgxpool.Pool, a
// *pgx.Conn or a pgx.Tx. It is contacts.DBTX, so a segment walk and the
// contact writes it leads to can share one transaction.
type DBTX = contacts.DBTX
