package engine

import "github.com/riverqueue/river"

// River queues. Each kind of work has its own queue so a large launch or a
// burst of follow-up rules never starves sends, and each can be sized apart.
const (
	QueueLaunch  = "launch" // walks a segment and creates deliveries
	QueueSend    = "send"   // renders and sends batches of deliveries
	QueueRules   = "rules"  // evaluates follow-up rules for tracking events
	QueueDefault = river.QueueDefault
)

// QueueConfig returns the queues a worker process runs, sized for the given
// number of concurrent send jobs.
func QueueConfig(sendWorkers int) map[string]river.QueueConfig {
	if sendWorkers < 1 {
		sendWorkers = 1
	}
	return map[string]river.QueueConfig{
		QueueLaunch:  {MaxWorkers: 2},
		QueueSend:    {MaxWorkers: sendWorkers},
		QueueRules:   {MaxWorkers: 20},
		QueueDefault: {MaxWorkers: 10},
	}
}
