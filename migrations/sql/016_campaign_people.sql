-- Campaign-level rates count people, not messages: open_rate is the people
-- who opened any step over the people delivered any step (docs/metrics.md).
-- campaign_people holds, per campaign and contact, what is true of that
-- person across all their deliveries of the campaign; the tracking package
-- (tracking/people.go) keeps it, and the people_* rollup counters (step '',
-- link -1) that count its rows, in the transactions that change the
-- deliveries, so a report reads people counts from a few rollup totals
-- whatever the campaign's size. opened and clicked are 0 (none), 1 (machine
-- traffic only) or 2 (a human).

ALTER TABLE deliveries ADD COLUMN IF NOT EXISTS converted_at timestamptz;

UPDATE deliveries d SET converted_at = f.at
FROM (SELECT delivery_id, min(occurred_at) AS at FROM events WHERE type = 'conversion' GROUP BY 1) f
WHERE d.id = f.delivery_id AND d.converted_at IS NULL;

CREATE TABLE IF NOT EXISTS campaign_people (
    campaign_id  bigint NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    contact_id   bigint NOT NULL,
    sent         boolean NOT NULL DEFAULT false,
    delivered    boolean NOT NULL DEFAULT false,
    opened       smallint NOT NULL DEFAULT 0,
    clicked      smallint NOT NULL DEFAULT 0,
    unsubscribed boolean NOT NULL DEFAULT false,
    complained   boolean NOT NULL DEFAULT false,
    converted    boolean NOT NULL DEFAULT false,
    PRIMARY KEY (campaign_id, contact_id)
);

-- Existing campaigns: the people, then their counters (the rollups'
-- triggers add them to rollup_totals).
INSERT INTO campaign_people (campaign_id, contact_id, sent, delivered, opened, clicked, unsubscribed, complained, converted)
SELECT campaign_id, contact_id,
    bool_or(sent_at IS NOT NULL),
    bool_or(sent_at IS NOT NULL AND bounced_at IS NULL),
    CASE WHEN bool_or(first_open_at IS NOT NULL) THEN 2 WHEN bool_or(first_machine_open_at IS NOT NULL) THEN 1 ELSE 0 END,
    CASE WHEN bool_or(first_click_at IS NOT NULL) THEN 2 WHEN bool_or(first_machine_click_at IS NOT NULL) THEN 1 ELSE 0 END,
    bool_or(unsubscribed_at IS NOT NULL),
    bool_or(complained_at IS NOT NULL),
    bool_or(converted_at IS NOT NULL)
FROM deliveries GROUP BY 1, 2
ON CONFLICT DO NOTHING;

INSERT INTO rollups AS r (campaign_id, step, link_idx, metric, bucket, machine, count)
SELECT p.campaign_id, '', -1, v.metric, date_trunc('minute', now(), 'UTC'), v.machine, sum(v.n)
FROM campaign_people p CROSS JOIN LATERAL (VALUES
    ('people_sent', false, p.sent::int),
    ('people_bounced', false, (p.sent AND NOT p.delivered)::int),
    ('people_opens', false, (p.opened = 2)::int),
    ('people_opens', true, (p.opened = 1)::int),
    ('people_clicks', false, (p.clicked = 2)::int),
    ('people_clicks', true, (p.clicked = 1)::int),
    ('people_unsubscribes', false, p.unsubscribed::int),
    ('people_complaints', false, p.complained::int),
    ('people_converted', false, p.converted::int)
) v(metric, machine, n)
GROUP BY 1, 4, 6 HAVING sum(v.n) <> 0
ORDER BY 1, 4, 6
ON CONFLICT (campaign_id, step, link_idx, metric, bucket, machine) DO UPDATE SET count = r.count + EXCLUDED.count;

-- Revenue per currency (metric 'revenue:' || currency), from the
-- attributed transactions, for the reports' revenue_by_currency.
INSERT INTO rollups AS r (campaign_id, step, link_idx, metric, bucket, machine, count, value)
SELECT d.campaign_id, d.step, -1, 'revenue:' || upper(btrim(t.currency)), date_trunc('minute', t.occurred_at, 'UTC'), false, 0, sum(t.value)
FROM transactions t JOIN deliveries d ON d.id = t.delivery_id
WHERE NOT EXISTS (SELECT 1 FROM rollups WHERE metric LIKE 'revenue:%')
GROUP BY 1, 2, 4, 5 HAVING sum(t.value) <> 0
ORDER BY 1, 2, 4, 5
ON CONFLICT (campaign_id, step, link_idx, metric, bucket, machine) DO UPDATE SET value = r.value + EXCLUDED.value;

---- create above / drop below ----

DELETE FROM rollups WHERE metric LIKE 'revenue:%';
DELETE FROM rollups WHERE step = '' AND metric LIKE 'people\_%';
DROP TABLE IF EXISTS campaign_people;
ALTER TABLE deliveries DROP COLUMN IF EXISTS converted_at;
