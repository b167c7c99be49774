//go:build race

package tracking

// raceEnabled: the race detector drops some sync.Pool puts on purpose,
// so allocation counts are not what a normal build does.
const raceEnabled = true
