package main

import (
	"fmt"
	"io"
	"time"
)

// printTable prints each measure at each size and the ratio of its per-item
// cost between the last size and the first.
func printTable(w io.Writer, rs []stageResult) {
	if len(rs) == 0 {
		return
	}
	first, last := rs[0], rs[len(rs)-1]
	fmt.Fprintf(w, "\n%-44s", "measure")
	for _, r := range rs {
		fmt.Fprintf(w, " %18s", fmt.Sprintf("at %d", r.contacts))
	}
	fmt.Fprintf(w, "  %s\n", "per-item cost, last ÷ first")
	row := func(name string, val func(stageResult) string, perItem func(stageResult) float64) {
		fmt.Fprintf(w, "%-44s", name)
		for _, r := range rs {
			fmt.Fprintf(w, " %18s", val(r))
		}
		if perItem != nil && perItem(first) > 0 {
			ratio := perItem(last) / perItem(first)
			verdict := "flat"
			if ratio > 1.5 {
				verdict = "NOT flat"
			}
			fmt.Fprintf(w, "  %.2f× (%s)", ratio, verdict)
		}
		fmt.Fprintln(w)
	}
	rate := func(n int64, d time.Duration) string { return fmt.Sprintf("%.0f/s", float64(n)/d.Seconds()) }
	row("import rows/s (peykar import)", func(r stageResult) string { return rate(int64(r.imported), r.importTime) },
		func(r stageResult) float64 { return r.importTime.Seconds() / float64(r.imported) })
	if first.sent > 0 {
		row("send msgs/s, every contact", func(r stageResult) string { return rate(r.sent, r.sendTime) },
			func(r stageResult) float64 { return r.sendTime.Seconds() / float64(r.sent) })
		row("send CPU per message (serve + PostgreSQL)", func(r stageResult) string {
			return fmt.Sprintf("%.0f µs", float64(r.sendCPU.Microseconds())/float64(r.sent))
		}, func(r stageResult) float64 { return r.sendCPU.Seconds() / float64(r.sent) })
	}
	for i := range first.counts {
		row("segment count: "+first.counts[i].name, func(r stageResult) string { return ms(r.counts[i].d) },
			func(r stageResult) float64 { return r.counts[i].d.Seconds() / float64(r.contacts) })
	}
	row("report, median (per delivery)", func(r stageResult) string { return ms(r.report) },
		func(r stageResult) float64 { return r.report.Seconds() / float64(r.reportDeliveries) })
	row("analytics recompute (per contact)", func(r stageResult) string { return ms(r.analytics) },
		func(r stageResult) float64 { return r.analytics.Seconds() / float64(r.contacts) })
	row("analytics summary read (per contact)", func(r stageResult) string { return ms(r.summary) },
		func(r stageResult) float64 { return r.summary.Seconds() / float64(r.contacts) })
	row("CSV export rows/s (deliveries.csv)", func(r stageResult) string { return rate(r.exportRows, r.exportTime) },
		func(r stageResult) float64 { return r.exportTime.Seconds() / float64(r.exportRows) })
	row("bytes on disk per contact", func(r stageResult) string { return fmt.Sprintf("%.0f B", r.bytesContact) },
		func(r stageResult) float64 { return r.bytesContact })
	row("bytes on disk per delivery", func(r stageResult) string { return fmt.Sprintf("%.0f B", r.bytesDelivery) },
		func(r stageResult) float64 { return r.bytesDelivery })
	row("bytes on disk per event", func(r stageResult) string { return fmt.Sprintf("%.0f B", r.bytesEvent) },
		func(r stageResult) float64 { return r.bytesEvent })
	row("deliveries / events in the database", func(r stageResult) string { return fmt.Sprintf("%d / %d", r.deliveries, r.events) }, nil)
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }
