-- The engine's statements on the tables it owns: rule_firings and
-- campaign_exits (the follow-up rules' bookkeeping).

-- name: record_firing
-- The (rule, delivery) row: its primary key makes a rule fire at most once
-- per delivery, in the transaction of the actions. No row back means it
-- existed.
INSERT INTO rule_firings (campaign_id, rule_name, delivery_id, contact_id, status, error)
VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING;

-- name: record_timer_skips
-- A timer rule's deliveries whose condition no longer held when its wait
-- ended (opened, clicked or converted meanwhile, or not sent after all):
-- skipped, once per (rule, delivery) as a firing is. deliveries is only
-- read, for each one's contact.
INSERT INTO rule_firings (campaign_id, rule_name, delivery_id, contact_id, status)
SELECT campaign_id, $2, id, contact_id, 'skipped' FROM deliveries WHERE campaign_id = $1 AND id = ANY ($3)
ON CONFLICT DO NOTHING;

-- name: record_exit
-- A rule's exit action: the contact leaves the campaign; later follow-ups
-- of theirs are skipped.
INSERT INTO campaign_exits (campaign_id, contact_id, rule_name) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING;

-- name: has_exited
SELECT EXISTS (SELECT 1 FROM campaign_exits WHERE campaign_id = $1 AND contact_id = $2);

-- name: follow_ups_waiting
-- The follow-ups a campaign's rules scheduled that have not run yet, in
-- deliveries: timer checks (rule_timer jobs, per rule) and sends waiting
-- out a rule's delay (send jobs that name their rule and step). River's
-- driver owns river_job; the engine only reads back the args it wrote. The
-- containment test uses River's GIN index on args.
SELECT kind, coalesce(args->>'rule', ''), coalesce(args->>'step', ''),
	coalesce(sum(jsonb_array_length(args->'delivery_ids')), 0)::bigint
FROM river_job
WHERE state IN ('scheduled', 'available') AND kind IN ('rule_timer', 'send')
	AND args @> jsonb_build_object('campaign_id', $1::bigint) AND args ? 'rule'
GROUP BY 1, 2, 3;
