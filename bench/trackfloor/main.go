// Command trackfloor measures a floor under what a click costs
// PostgreSQL: the event written durably in a group commit, and what it
// derives (the delivery's first click, the person's clicked flag, the
// contact's clicks) written once per batch, run inside PostgreSQL as
// PL/pgSQL procedures (floor.sql): no round trips, no parsing, and none of
// what the real path adds (the inbox, row locks, classification, the click
// history, rollups, rule jobs). It prints, per phase, the CPU of the
// backend that ran it per click and the WAL bytes per click. PostgreSQL
// runs with default durability unless -unsafe.
//
//	go run ./bench/trackfloor -clicks 100000 -runs 3
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
	clicks := flag.Int("clicks", 100000, "clicks per run")
	firsts := flag.Float64("firsts", 0.69, "share of clicks that are a delivery's first (bench/tracking measured 0.69)")
	runs := flag.Int("runs", 3, "runs, each a new campaign to new contacts")
	batch := flag.Int("batch", 100, "clicks per request-path commit (128 connections give batches of up to 127)")
	fold := flag.Int("fold", 2000, "clicks per derive transaction (the follower's FoldBatch)")
	unsafe := flag.Bool("unsafe", false, "UNSAFE: fsync and synchronous_commit off (labelled in the output)")
	flag.Parse()
	deliveries := max(1, int(float64(*clicks)**firsts))
	if err := run(context.Background(), *unsafe, *clicks, deliveries, *runs, *batch, *fold); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, unsafe bool, clicks, deliveries, runs, batch, fold int) error {
	cl, first, err := benchdb.OpenFloor(ctx, unsafe, floorSQL, deliveries*runs)
	if err != nil {
		return err
	}
	defer cl.Close()
	fmt.Printf("%d clicks per run on %d sent deliveries; the request path commits %d at a time, the derived writes %d at a time\n", clicks, deliveries, batch, fold)
	fmt.Println("run  request path  derived  total  (backend CPU µs per click)   WAL B per click: request path  derived  total")
	for r := range runs {
		if err := oneRun(ctx, cl, first+int64(r*deliveries), clicks, deliveries, batch, fold, r+1); err != nil {
			return err
		}
	}
	return nil
}

func oneRun(ctx context.Context, cl *benchdb.Cluster, first int64, clicks, deliveries, batch, fold, r int) error {
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
	if _, err := conn.Exec(ctx, fmt.Sprintf("CALL floor_setup(%d, %d, %d)", camp, first, deliveries)); err != nil {
		return fmt.Errorf("setup: %w", err)
	}
	if _, err := conn.Exec(ctx, "VACUUM ANALYZE deliveries, campaign_people, contact_stats"); err != nil {
		return err
	}
	calls := []string{
		fmt.Sprintf("CALL floor_clicks(%d, %d, %d, %d)", camp, clicks, deliveries, batch),
		fmt.Sprintf("CALL floor_derive(%d, %d, %d, %d)", camp, clicks, deliveries, fold),
	}
	var cpu, wal []float64
	for _, call := range calls {
		c, w, err := benchdb.CallCost(ctx, conn, pid, call)
		if err != nil {
			return err
		}
		cpu = append(cpu, float64(c.Microseconds())/float64(clicks))
		wal = append(wal, w/float64(clicks))
	}
	fmt.Printf("%3d  %12.1f  %7.1f  %5.1f  %58.0f %8.0f %6.0f\n", r, cpu[0], cpu[1], cpu[0]+cpu[1], wal[0], wal[1], wal[0]+wal[1])
	return nil
}
