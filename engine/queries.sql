-- The engine's statements on the tables it owns: rule_firings and
-- campaign_exits (the follow-up rules' bookkeeping).

-- name: record_firing
-- The (rule, delivery) row: its primary key makes a rule fire at most once
-- per delivery, in the transaction of the actions. No row back means it
-- existed.
INSERT INTO rule_firings (campaign_id, rule_name, delivery_id, contact_id, status, error)
VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING;

-- name: record_exit
-- A rule's exit action: the contact leaves the campaign; later follow-ups
-- of theirs are skipped.
INSERT INTO campaign_exits (campaign_id, contact_id, rule_name) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING;

-- name: has_exited
SELECT EXISTS (SELECT 1 FROM campaign_exits WHERE campaign_id = $1 AND contact_id = $2);
