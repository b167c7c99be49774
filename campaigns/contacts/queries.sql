-- The contacts package's statements on the tables it owns, by name:
-- contacts, transactions, suppressions, imports and import_chunks. Other
-- packages write these tables only through the package's functions.

-- name: erase_contact
-- The email becomes an address that can never be sent to; the row stays
-- so anonymous counts and reports stay correct.
UPDATE contacts SET email = 'erased-' || id || '@erased.invalid', name = '',
    attributes = '{}', tags = '{}', status = 'erased', consent_source = NULL, consent_at = NULL,
    consent_ip = NULL, updated_at = now()
WHERE id = $1;

-- name: erase_transactions
UPDATE transactions SET attributes = '{}' WHERE contact_id = $1 AND attributes <> '{}';

-- name: bump_engagement
-- The tracking writer's per-batch stats: one statement over arrays, queued
-- in the writer's batch (QueueEngagement).
UPDATE contacts c SET opens = c.opens + u.o, clicks = c.clicks + u.c,
    last_open_at = GREATEST(c.last_open_at, u.lo), last_click_at = GREATEST(c.last_click_at, u.lc)
FROM unnest($1::bigint[], $2::int[], $3::int[], $4::timestamptz[], $5::timestamptz[]) AS u(id, o, c, lo, lc)
WHERE c.id = u.id;

-- name: raise_status
-- Never downgrade: active < unsubscribed < bounced < complained; an erased
-- contact stays erased (QueueStatus).
UPDATE contacts c SET status = u.s, updated_at = now()
FROM unnest($1::bigint[], $2::text[]) AS u(id, s)
WHERE c.id = u.id AND c.status <> 'erased'
  AND array_position(ARRAY['active','unsubscribed','bounced','complained'], u.s)
    > array_position(ARRAY['active','unsubscribed','bounced','complained'], c.status);

-- name: attribute_transaction_to_campaign
-- A transaction no delivery explains keeps the campaign it was posted
-- with, when that campaign exists.
UPDATE transactions SET campaign_id = $2 WHERE id = $1
  AND EXISTS (SELECT 1 FROM campaigns WHERE id = $2);

-- name: attribute_transaction_to_delivery
UPDATE transactions SET delivery_id = $2, campaign_id = $3 WHERE id = $1;

-- name: transaction_currency
SELECT upper(btrim(currency)) FROM transactions WHERE id = $1;

-- name: bulk_insert_contacts
-- New contacts over arrays (one round trip); an email already known is
-- skipped. Attributes and tags come as JSON texts. $9 names the attribute
-- returned with each new contact.
INSERT INTO contacts (email, name, attributes, tags, status, consent_source, consent_at, consent_ip, created_at, updated_at)
SELECT e, n, a::jsonb, ARRAY(SELECT jsonb_array_elements_text(tg::jsonb)), 'active', cs, ca, NULLIF(ip, '')::inet, at, at
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[], $7::text[], $8::timestamptz[])
    AS u(e, n, a, tg, cs, ca, ip, at)
ON CONFLICT (email_key) DO NOTHING
RETURNING id, coalesce(attributes->>$9::text, ''), created_at;

-- name: refresh_purchase_stats
-- After a bulk load of purchases (CopyTransactions): each contact's
-- conversions, revenue and last purchase, from its purchases.
UPDATE contacts c SET conversions = c.conversions + t.n, revenue = c.revenue + t.total,
    last_purchase_at = GREATEST(c.last_purchase_at, t.last)
FROM (SELECT contact_id, count(*) AS n, sum(value) AS total, max(occurred_at) AS last
      FROM transactions WHERE contact_id = ANY($1) AND type = 'purchase' GROUP BY contact_id) t
WHERE c.id = t.contact_id;
