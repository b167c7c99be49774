package engine

import (
	"time"

	"github.com/riverqueue/river"

	"github.com/peykar/peykar/campaigns/messages"
)

// River queues. Each kind of work has its own queue so a large launch or a
// burst of follow-up rules never starves sends, and each can be sized apart.
const (
	QueueLaunch  = "launch" // walks a segment and creates deliveries
	QueueSend    = "send"   // renders and sends batches of deliveries
	QueueRules   = "rules"  // evaluates follow-up rules for tracking events
	QueueDefault = river.QueueDefault
	// QueueMessages holds transactional messages (messages.QueueMessages),
	// a job per group the API stored together (up to messages.MaxBatchJob
	// messages), apart from campaign sends.
	QueueMessages = messages.QueueMessages
)

// messageFetchCooldown is how often the messages queue may fetch new jobs
// (River's default is 100 ms): a message waits for the next fetch, so this
// bounds its latency from the API call to its send under load.
const messageFetchCooldown = 5 * time.Millisecond

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
		// Each message job holds a worker while it sends; the mailer's pool
		// bounds the connections.
		QueueMessages: {MaxWorkers: 100, FetchCooldown: messageFetchCooldown},
	}
}
