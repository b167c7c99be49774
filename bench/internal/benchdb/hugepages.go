package benchdb

import "os"

// BENCH_PG_HUGEPAGES=1 starts the embedded cluster with huge_pages = on:
// its shared memory (shared_buffers and the rest) mapped in 2 MB pages,
// so a backend's first touch of a buffer faults once per 2 MB instead of
// once per 4 kB page. PostgreSQL then refuses to start unless the machine
// has enough huge pages reserved (vm.nr_hugepages, which the benchmark
// does not change: whoever runs it reserves them and gives them back).
// Off by default: the throwaway cluster is tuned like a deployment's
// defaults (huge_pages = try, which uses none on a machine without them).
func hugePageSettings() map[string]string {
	if os.Getenv("BENCH_PG_HUGEPAGES") != "1" {
		return nil
	}
	return map[string]string{"huge_pages": "on"}
}
