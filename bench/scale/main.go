// Command scale measures how Peykar's costs grow with its data: it grows
// one database through a list of sizes (by default 100,000 then 1,000,000
// contacts, with ten events per contact) and, at each size, measures what
// users do — import contacts with `peykar import`, send a campaign to every
// contact, count segments, read a report, recompute analytics, export CSV —
// and the bytes on disk per contact, delivery and event. It prints each
// measure at each size and the ratio of the per-item cost between the
// largest and the smallest size ("flat" is within 1.5×).
//
// `peykar serve` runs as its own process (built from this checkout) on a
// throwaway PostgreSQL with default durability (fsync and
// synchronous_commit on, printed), sending to an SMTP sink in another
// process; DATABASE_URL points it at another server instead.
//
//	go run ./bench/scale -sizes 100000,1000000
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/peykar/peykar/bench/internal/benchsink"
)

func main() {
	sink := flag.Bool("sink", false, "(internal) run as the SMTP sink")
	var cfg config
	sizes := flag.String("sizes", "100000,1000000", "contact counts to grow through, ascending")
	flag.IntVar(&cfg.campaigns, "history", 1, "past campaigns added at each size, each to every new contact")
	flag.IntVar(&cfg.eventsPer, "events", 10, "events per delivery of each past campaign")
	flag.IntVar(&cfg.runs, "runs", 5, "timed runs of each latency (the median is reported)")
	flag.IntVar(&cfg.pool, "pool", 16, "SMTP connections of peykar serve")
	flag.BoolVar(&cfg.send, "send", true, "send a campaign to every contact at each size")
	flag.Parse()
	var err error
	if *sink {
		err = benchsink.Serve()
	} else {
		for _, f := range strings.Split(*sizes, ",") {
			n, perr := strconv.Atoi(strings.TrimSpace(f))
			if perr != nil || n <= 0 || (len(cfg.sizes) > 0 && n <= cfg.sizes[len(cfg.sizes)-1]) {
				fmt.Fprintf(os.Stderr, "bench: -sizes %q: want ascending positive counts\n", *sizes)
				os.Exit(2)
			}
			cfg.sizes = append(cfg.sizes, n)
		}
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		err = run(ctx, cfg)
		stop()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

type config struct {
	sizes     []int
	campaigns int
	eventsPer int
	runs      int
	pool      int
	send      bool
}
