-- The tracking package's statements, by name: writes to the tables it owns
-- (events, rollups, rollup_totals, rollup_hours, campaign_people) and its
-- reads of other packages' tables. Writes to contacts and transactions go
-- through package contacts.

-- name: campaign_links
-- The recorded links of several campaign steps at once (LinkCache).
SELECT l.campaign_id, l.step, l.idx, l.url FROM campaign_links l
JOIN unnest($1::bigint[], $2::text[]) AS k(c, s) ON l.campaign_id = k.c AND l.step = k.s;

-- name: erase_contact_events
-- Through the contact's deliveries: events has no contact index (the
-- tracking writer's inserts would pay for it), deliveries has.
UPDATE events SET ip = NULL, user_agent = ''
WHERE delivery_id IN (SELECT d.id FROM deliveries d WHERE d.contact_id = $1) AND contact_id = $1
  AND (ip IS NOT NULL OR user_agent <> '');
