package segments

import (
	"strconv"
	"time"
)

// topicsSQL is the condition that contact c is subscribed (not pending, not
// unsubscribed) to one of the topics, with its one parameter numbered
// after base. contact_topics is package topics'; this only reads it.
const topicsSQL = `EXISTS (SELECT 1 FROM contact_topics ct WHERE ct.contact_id = c.id AND ct.status = 'subscribed' AND ct.topic_id = ANY ($`

// WithTopics returns c restricted to contacts subscribed to at least one
// of topicIDs (a campaign's topic_ids; with a segment, both must hold).
// No ids: c itself. The restriction is SQL on every path (the translated
// rule's WHERE clause and the Go path's prefilter), so counts, pages and
// the launch walk all apply it.
func (c *Compiled) WithTopics(topicIDs []int64) *Compiled {
	if len(topicIDs) == 0 {
		return c
	}
	out := *c
	out.topics = append([]int64(nil), topicIDs...)
	return &out
}

// Topics are the topic ids WithTopics restricted c to.
func (c *Compiled) Topics() []int64 { return c.topics }

// topicCondition is the topic restriction with its parameter after base
// ("" when there is none).
func (c *Compiled) topicCondition(base int) (string, []any) {
	if len(c.topics) == 0 {
		return "", nil
	}
	return topicsSQL + strconv.Itoa(base+1) + `::bigint[]))`, []any{c.topics}
}

// where returns the rule, and the topics, as SQL over contacts c with
// parameters numbered after base; only for translatable rules.
func (c *Compiled) where(now time.Time, base int) (string, []any) {
	w, args := c.ruleWhere(now, base)
	t, targs := c.topicCondition(base + len(args))
	if t == "" {
		return w, args
	}
	return "(" + w + " AND " + t + ")", append(args, targs...)
}

// prefilterSQL is " AND (…)" for what SQL checks before the Go path
// evaluates the rule: the rule's translatable conjuncts and the topics.
func (c *Compiled) prefilterSQL(now time.Time, base int) (string, []any) {
	pre, args := c.rulePrefilterSQL(now, base)
	t, targs := c.topicCondition(base + len(args))
	if t == "" {
		return pre, args
	}
	return pre + " AND " + t, append(args, targs...)
}
