// Command sendfloor measures a floor under what sending costs PostgreSQL:
// the writes every recipient needs (its delivery inserted at the launch,
// updated once to sent, its contact's sent counter, its campaign_people
// row), batched as peykar batches them, run inside PostgreSQL as PL/pgSQL
// procedures (floor.sql), so without round trips, parsing or anything the
// real send path adds (the claim, the contacts' read, the sendability
// check, River's jobs, the outcome log, the step counters). It prints, per
// phase, the CPU of the backend that ran it per 1,000 recipients and the
// WAL bytes per recipient, and the whole cluster's CPU (background
// processes included) over the run. PostgreSQL runs with default
// durability unless -unsafe.
//
//	go run ./bench/sendfloor -n 100000 -runs 3
package main

import (
	"context"
	_ "embed"
	"flag"
	"fmt"
	"log"
	"strconv"

	"github.com/peykar/peykar/bench/internal/benchdb"
)

//go:embed floor.sql
var floorSQL string

func main() {
	n := flag.Int("n", 100000, "recipients per run")
	runs := flag.Int("runs", 3, "runs, each a new campaign to new contacts")
	flush := flag.Int("flush", 26, "recipients per outcome transaction (peykar's median flush at 100,000 recipients, pool 16)")
	fold := flag.Int("fold", 1600, "recipients per people transaction (a send fold of 64 flushes)")
	unsafe := flag.Bool("unsafe", false, "UNSAFE: fsync and synchronous_commit off (labelled in the output)")
	flag.Parse()
	if err := run(context.Background(), *unsafe, *n, *runs, *flush, *fold); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, unsafe bool, n, runs, flush, fold int) error {
	cl, first, err := benchdb.OpenFloor(ctx, unsafe, floorSQL, n*runs)
	if err != nil {
		return err
	}
	defer cl.Close()
	fmt.Printf("%d recipients per run; outcomes in transactions of %d, people in transactions of %d\n", n, flush, fold)
	fmt.Println("run  launch  outcomes  people  backend total  cluster total  (CPU ms per 1,000 recipients)  WAL B per recipient: launch outcomes people total")
	for r := range runs {
		if err := oneRun(ctx, cl, first+int64(r*n), n, flush, fold, r+1); err != nil {
			return err
		}
	}
	fmt.Println("backend: the one that ran the phase; cluster: every PostgreSQL process, background writers and autovacuum included (an autovacuum worker that exits before the end is not counted)")
	return nil
}

func oneRun(ctx context.Context, cl *benchdb.Cluster, first int64, n, flush, fold, r int) error {
	conn, err := cl.Pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	var camp int64
	var pid int
	err = conn.QueryRow(ctx, "INSERT INTO campaigns (name) VALUES ($1) RETURNING id, pg_backend_pid()", "floor "+strconv.Itoa(r)).Scan(&camp, &pid)
	if err != nil {
		return err
	}
	calls := []string{
		fmt.Sprintf("CALL floor_launch(%d, %d, %d)", camp, first, n),
		fmt.Sprintf("CALL floor_outcomes(%d, %d, %d)", camp, n, flush),
		fmt.Sprintf("CALL floor_people(%d, %d, %d)", camp, n, fold),
	}
	per := float64(n) / 1000
	var cpu, wal []float64
	startCluster := benchdb.SampleCPU(cl.DataDir)
	for _, call := range calls {
		c, w, err := benchdb.CallCost(ctx, conn, pid, call)
		if err != nil {
			return err
		}
		cpu = append(cpu, float64(c.Milliseconds())/per)
		wal = append(wal, w/float64(n))
	}
	cluster := float64(benchdb.SampleCPU(cl.DataDir).Sub(startCluster).DB.Milliseconds()) / per
	fmt.Printf("%3d  %6.1f  %8.1f  %6.1f  %13.1f  %13.1f  %52.0f %8.0f %6.0f %5.0f\n",
		r, cpu[0], cpu[1], cpu[2], cpu[0]+cpu[1]+cpu[2], cluster, wal[0], wal[1], wal[2], wal[0]+wal[1]+wal[2])
	return nil
}
