package engine

import (
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// onceAtATime are the insert options of a periodic chore that must not run
// twice at once across processes: River's leader enqueues periodic jobs,
// and uniqueness while one waits or runs keeps a slow run from overlapping
// the next period's (as tracking's fold and the analytics recompute do).
func onceAtATime(queue string) river.InsertOpts {
	return river.InsertOpts{Queue: queue, UniqueOpts: river.UniqueOpts{
		ByState: []rivertype.JobState{
			rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning,
			rivertype.JobStateRetryable, rivertype.JobStateScheduled,
		},
	}}
}
