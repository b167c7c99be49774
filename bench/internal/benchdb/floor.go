package benchdb

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// OpenFloor opens the cluster of a floor benchmark (bench/sendfloor,
// bench/trackfloor): PostgreSQL's default durability unless unsafe, the
// load average and the durability printed, the procedures of floorSQL
// created and contacts contacts seeded; first is the first one's id.
func OpenFloor(ctx context.Context, unsafe bool, floorSQL string, contacts int) (cl *Cluster, first int64, err error) {
	if !unsafe {
		_ = os.Setenv("BENCH_PG_DURABLE", "1")
	}
	cl, err = OpenCluster(ctx, 2)
	if err != nil {
		return nil, 0, err
	}
	defer func() {
		if err != nil {
			cl.Close()
		}
	}()
	db := cl.Pool
	var fsync, sc string
	if err := db.QueryRow(ctx, "SELECT current_setting('fsync'), current_setting('synchronous_commit')").Scan(&fsync, &sc); err != nil {
		return nil, 0, err
	}
	fmt.Printf("load average at start: %s\ndurability: fsync=%s synchronous_commit=%s\n", LoadAvg(), fsync, sc)
	if _, err := db.Exec(ctx, floorSQL); err != nil {
		return nil, 0, fmt.Errorf("floor.sql: %w", err)
	}
	err = db.QueryRow(ctx, `WITH c AS (INSERT INTO contacts (email, name)
		SELECT 'floor' || g || '@example.com', 'Floor ' || g FROM generate_series(1, $1::int) g RETURNING id)
		SELECT min(id) FROM c`, contacts).Scan(&first)
	if err != nil {
		return nil, 0, fmt.Errorf("seed contacts: %w", err)
	}
	if _, err := db.Exec(ctx, "VACUUM ANALYZE contacts"); err != nil {
		return nil, 0, err
	}
	return cl, first, nil
}

// CallCost runs call on conn, whose backend is pid, and returns the CPU
// that backend used and the WAL bytes the cluster wrote meanwhile.
func CallCost(ctx context.Context, conn *pgxpool.Conn, pid int, call string) (cpu time.Duration, wal float64, err error) {
	var lsn0 string
	if err := conn.QueryRow(ctx, "SELECT pg_current_wal_lsn()::text").Scan(&lsn0); err != nil {
		return 0, 0, err
	}
	c0, err := BackendCPU(pid)
	if err != nil {
		return 0, 0, err
	}
	if _, err := conn.Exec(ctx, call); err != nil {
		return 0, 0, fmt.Errorf("%s: %w", call, err)
	}
	c1, err := BackendCPU(pid)
	if err != nil {
		return 0, 0, err
	}
	if err := conn.QueryRow(ctx, "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), $1::pg_lsn)", lsn0).Scan(&wal); err != nil {
		return 0, 0, err
	}
	return c1 - c0, wal, nil
}
