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
-- in the writer's batch (QueueEngagement). The ids come sorted and
-- distinct, so concurrent batches lock contact_stats rows in one order.
INSERT INTO contact_stats AS s (contact_id, opens, clicks, last_open_at, last_click_at)
SELECT id, o, c, lo, lc
FROM unnest($1::bigint[], $2::int[], $3::int[], $4::timestamptz[], $5::timestamptz[]) AS u(id, o, c, lo, lc)
ON CONFLICT (contact_id) DO UPDATE SET opens = s.opens + EXCLUDED.opens, clicks = s.clicks + EXCLUDED.clicks,
    last_open_at = GREATEST(s.last_open_at, EXCLUDED.last_open_at),
    last_click_at = GREATEST(s.last_click_at, EXCLUDED.last_click_at);

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

-- name: contact_id_by_email
-- The existing contact a create or update collides with.
SELECT id FROM contacts WHERE email_key = lower($1);

-- name: insert_contact_by_email
-- A new contact known only by its address; an existing one is left alone.
INSERT INTO contacts (email) VALUES ($1) ON CONFLICT (email_key) DO NOTHING RETURNING id;

-- name: export_suppressions
-- The suppressions that hold the contact back: its address, and its domain unless erased.
SELECT id, kind, value, reason, created_at, channel FROM suppressions
    WHERE (kind = 'address' AND value = (SELECT email_key FROM contacts WHERE id = $1))
       OR (kind = 'domain' AND value = (SELECT split_part(email_key, '@', 2) FROM contacts WHERE id = $1 AND status <> 'erased'))
    ORDER BY id;

-- name: export_deliveries
-- Everything held about the person (GET /contacts/{id}/export): deliveries.
SELECT id, campaign_id, step, status, attempts, last_error, response, queued_at, sent_at,
    bounced_at, first_open_at, first_click_at FROM deliveries WHERE contact_id = $1 ORDER BY id;

-- name: export_events
-- Through the contact's deliveries: events has no contact index. Folded
-- events only, as every read of events for people (docs/metrics.md, "How
-- a report is read"): a click or open whose derived state is not written
-- yet (followed, above tracking_watermark, migration 053) is left out.
SELECT id, delivery_id, campaign_id, step, type, link_idx, value::float8 AS value, machine, reason,
    user_agent, host(ip) AS ip, occurred_at FROM events
    WHERE delivery_id IN (SELECT d.id FROM deliveries d WHERE d.contact_id = $1) AND contact_id = $1
        AND (NOT followed OR id <= (SELECT id FROM tracking_watermark))
    ORDER BY id;

-- name: export_transactions
-- The export's transactions.
SELECT id, type, value::float8 AS value, currency, campaign_id, delivery_id, attributes,
    occurred_at, created_at FROM transactions WHERE contact_id = $1 ORDER BY id;

-- name: export_topics
-- The export's subscriptions (contact_topics is package topics'; this
-- only reads it).
SELECT ct.topic_id, t.name AS topic, ct.status, ct.at, ct.source
FROM contact_topics ct JOIN topics t ON t.id = ct.topic_id WHERE ct.contact_id = $1 ORDER BY ct.topic_id;

-- name: export_consent
-- The export's consent history, oldest first (consent_records is package
-- topics'; this only reads it).
SELECT cr.at, cr.channel, cr.topic_id, t.name AS topic, cr.change, cr.source, host(cr.ip) AS ip,
    cr.user_agent, cr.detail
FROM consent_records cr LEFT JOIN topics t ON t.id = cr.topic_id
WHERE cr.contact_id = $1 ORDER BY cr.at, cr.id;

-- name: history_deliveries
-- The contact page's latest deliveries.
SELECT d.id, d.campaign_id, c.name, d.step, d.status, d.last_error,
    d.queued_at, d.sent_at, d.first_open_at, d.first_click_at
FROM deliveries d JOIN campaigns c ON c.id = d.campaign_id
WHERE d.contact_id = $1 ORDER BY d.id DESC LIMIT $2;

-- name: history_events
-- The contact page's latest events, with the clicked link; folded events
-- only (export_events).
SELECT e.id, e.campaign_id, c.name, e.type, coalesce(l.url, ''),
    e.value::float8, e.machine, e.reason, e.occurred_at
FROM deliveries d
JOIN events e ON e.delivery_id = d.id
JOIN campaigns c ON c.id = e.campaign_id
LEFT JOIN campaign_links l ON l.campaign_id = e.campaign_id AND l.step = e.step AND l.idx = e.link_idx
WHERE d.contact_id = $1 AND (NOT e.followed OR e.id <= (SELECT id FROM tracking_watermark))
ORDER BY e.occurred_at DESC, e.id DESC LIMIT $2;

-- name: history_transactions
-- The contact page's latest transactions.
SELECT t.id, t.type, t.value::float8, t.currency, t.campaign_id,
    coalesce(c.name, ''), t.occurred_at
FROM transactions t LEFT JOIN campaigns c ON c.id = t.campaign_id
WHERE t.contact_id = $1 ORDER BY t.occurred_at DESC, t.id DESC LIMIT $2;

-- name: get_import
-- An import and its report (GET /imports/{id}).
SELECT id, status, mode, filename, size, total, inserted, updated, skipped, merged,
rejected_count, rejected, duplicates, error, created_at, started_at, finished_at, delimiter, tag_separator,
kind, create_contacts FROM imports WHERE id = $1;

-- name: create_import
-- A new import, before its file is stored.
INSERT INTO imports DEFAULT VALUES RETURNING id;

-- name: describe_import
-- The uploaded file's name, size, mode, delimiter and tag separator.
UPDATE imports SET mode = $2, filename = $3, size = $4, delimiter = $5, tag_separator = $6 WHERE id = $1;

-- name: store_import_chunk
-- The file is stored in chunks so the job reads it from the database, on any worker.
INSERT INTO import_chunks (import_id, seq, data) VALUES ($1, $2, $3);

-- name: start_import
-- A retried job starts its import over: the counts are reset.
UPDATE imports SET status = 'running', started_at = now(), total = 0, inserted = 0,
updated = 0, skipped = 0, merged = 0, rejected_count = 0, rejected = '[]', duplicates = '[]', error = ''
WHERE id = $1 RETURNING mode, delimiter, tag_separator, kind, create_contacts;

-- name: delete_import_chunks
-- A finished import's file is no longer needed.
DELETE FROM import_chunks WHERE import_id = $1;

-- name: save_import
-- The import's counts and report; finished_at once it is no longer running.
UPDATE imports SET status = $2, total = $3, inserted = $4, updated = $5, skipped = $6,
merged = $7, rejected_count = $8, rejected = $9, duplicates = $10, error = $11,
finished_at = CASE WHEN $2 = 'running' THEN NULL ELSE now() END
WHERE id = $1;

-- name: read_import_chunk
-- One chunk of an import's file.
SELECT data FROM import_chunks WHERE import_id = $1 AND seq = $2;

-- name: set_attribute
-- A follow-up rule's set_attribute action; an erased contact stays empty.
UPDATE contacts SET attributes = attributes || jsonb_build_object($2::text, $3::jsonb), updated_at = now()
WHERE id = $1 AND status <> 'erased';

-- name: add_tag
-- A follow-up rule's add_tag action; a tag is held once.
UPDATE contacts SET tags = array_append(tags, $2), updated_at = now()
WHERE id = $1 AND status <> 'erased' AND NOT ($2 = ANY(tags));

-- name: remove_tag
-- A follow-up rule's remove_tag action.
UPDATE contacts SET tags = array_remove(tags, $2), updated_at = now()
WHERE id = $1 AND $2 = ANY(tags);

-- name: suppress
-- Raises the status ($3 is its rank), never lowers it; answers whether the contact exists.
WITH u AS (
    UPDATE contacts SET status = $2, updated_at = now()
    WHERE id = $1 AND (CASE status WHEN 'active' THEN 0 WHEN 'pending' THEN 0 WHEN 'unsubscribed' THEN 1
        WHEN 'bounced' THEN 2 WHEN 'complained' THEN 3 ELSE 4 END) < $3
    RETURNING id)
SELECT EXISTS (SELECT 1 FROM contacts WHERE id = $1);

-- name: bump_sent
-- One more per message sent: $1 names a contact once per message, so a
-- contact sent two messages of one batch gets two. Rows are inserted or
-- updated in id order so concurrent send jobs cannot deadlock.
INSERT INTO contact_stats AS s (contact_id, sent)
SELECT id, count(*) FROM unnest($1::bigint[]) AS id GROUP BY id ORDER BY id
ON CONFLICT (contact_id) DO UPDATE SET sent = s.sent + EXCLUDED.sent;

-- name: add_suppression
-- A suppression already present is not an error: its id is looked up (add_suppression_existing).
INSERT INTO suppressions (kind, value, reason, channel) VALUES ($1, $2, $3, $4)
ON CONFLICT (kind, value, channel) DO NOTHING
RETURNING id, kind, value, reason, created_at, channel;

-- name: add_suppression_existing
-- The existing suppression of a repeated add.
SELECT id FROM suppressions WHERE kind = $1 AND value = $2 AND channel = $3;

-- name: list_suppressions
-- A keyset page of suppressions.
SELECT id, kind, value, reason, created_at, channel FROM suppressions
WHERE id > $1 ORDER BY id LIMIT $2;

-- name: delete_suppression
-- Lifts a suppression; answers its kind, value and channel.
DELETE FROM suppressions WHERE id = $1 RETURNING kind, value, channel;

-- name: campaign_exists
-- POST /events: a campaign_id must name a campaign.
SELECT EXISTS (SELECT 1 FROM campaigns WHERE id = $1);

-- name: insert_transaction
-- POST /events: the transaction itself. A key already stored inserts
-- nothing (no row returned): the unique index decides between concurrent
-- posts, and RecordEvent answers the stored event instead.
INSERT INTO transactions (contact_id, type, value, currency, campaign_id, attributes, occurred_at,
    idempotency_key, idempotency_hash)
VALUES ($1, $2, $3, $4, $5, $6, $7, NULLIF($8, ''), NULLIF($9, ''))
ON CONFLICT (idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
RETURNING id, contact_id, type, value::float8, currency, campaign_id, delivery_id, attributes, occurred_at, created_at;

-- name: bump_conversion_stats
-- A conversion adds to the contact's conversions and revenue and moves last_purchase_at.
UPDATE contacts SET conversions = conversions + 1, revenue = revenue + $2,
    last_purchase_at = GREATEST(last_purchase_at, $3) WHERE id = $1;

-- name: transaction_attribution
-- The campaign and delivery the conversion recorder attributed the transaction to.
SELECT campaign_id, delivery_id FROM transactions WHERE id = $1;

-- name: lock_event_contact
-- The event's contact, locked so an erasure cannot pass it.
SELECT status, email_key FROM contacts WHERE id = $1 FOR UPDATE;

-- The contact's columns, in the order scanContact reads them (the
-- contactColumns constant in contact.go, which the segment queries share).
-- The counters written per message and per event are in contact_stats
-- (aliased s, joined on the contact: no row there reads as zero).

-- name: create_contact
-- A taken address inserts nothing; Create then reports the conflict.
WITH c AS (INSERT INTO contacts AS c (email, name, attributes, tags, status, consent_source, consent_at, consent_ip)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8::inet)
ON CONFLICT (email_key) DO NOTHING
RETURNING c.*)
SELECT c.id, c.email, c.name, c.attributes, c.tags, c.status,
    c.consent_source, c.consent_at, host(c.consent_ip), c.created_at, c.updated_at,
    COALESCE(s.sent, 0), COALESCE(s.opens, 0), COALESCE(s.clicks, 0), c.conversions, c.revenue::float8,
    s.last_open_at, s.last_click_at, c.last_purchase_at
FROM c LEFT JOIN contact_stats s ON s.contact_id = c.id;

-- name: get_contact
SELECT c.id, c.email, c.name, c.attributes, c.tags, c.status,
    c.consent_source, c.consent_at, host(c.consent_ip), c.created_at, c.updated_at,
    COALESCE(s.sent, 0), COALESCE(s.opens, 0), COALESCE(s.clicks, 0), c.conversions, c.revenue::float8,
    s.last_open_at, s.last_click_at, c.last_purchase_at
FROM contacts c LEFT JOIN contact_stats s ON s.contact_id = c.id WHERE c.id = $1;

-- name: get_contacts
SELECT c.id, c.email, c.name, c.attributes, c.tags, c.status,
    c.consent_source, c.consent_at, host(c.consent_ip), c.created_at, c.updated_at,
    COALESCE(s.sent, 0), COALESCE(s.opens, 0), COALESCE(s.clicks, 0), c.conversions, c.revenue::float8,
    s.last_open_at, s.last_click_at, c.last_purchase_at
FROM contacts c LEFT JOIN contact_stats s ON s.contact_id = c.id WHERE c.id = ANY($1);

-- name: get_profiles
-- What a message to each of the contacts $1 needs (profile.Contact's
-- fields): no counters, consent or revenue, so no contact_stats join.
SELECT id, email, name, attributes, tags, status, created_at FROM contacts WHERE id = ANY($1);

-- name: update_contact
-- $9 says whether consent was given: only then are the consent columns
-- replaced. An erased contact is never updated.
WITH c AS (UPDATE contacts AS c SET email = $2, name = $3, attributes = $4, tags = $5,
    status = COALESCE(NULLIF($6, ''), c.status),
    consent_source = CASE WHEN $9 THEN $7 ELSE c.consent_source END,
    consent_at = CASE WHEN $9 THEN $8 ELSE c.consent_at END,
    consent_ip = CASE WHEN $9 THEN $10::inet ELSE c.consent_ip END,
    updated_at = now()
WHERE c.id = $1 AND c.status <> 'erased'
RETURNING c.*)
SELECT c.id, c.email, c.name, c.attributes, c.tags, c.status,
    c.consent_source, c.consent_at, host(c.consent_ip), c.created_at, c.updated_at,
    COALESCE(s.sent, 0), COALESCE(s.opens, 0), COALESCE(s.clicks, 0), c.conversions, c.revenue::float8,
    s.last_open_at, s.last_click_at, c.last_purchase_at
FROM c LEFT JOIN contact_stats s ON s.contact_id = c.id;

-- name: filter_contacts
-- The contact list's text search over a segment's matches; $2 is a LIKE
-- pattern, '%%' when there is no search text.
SELECT c.id FROM contacts c WHERE c.id = ANY($1)
  AND ($2 = '%%' OR c.email_key LIKE $2 OR lower(c.name) LIKE $2) ORDER BY c.id;

-- name: insert_transactions_as_given
-- InsertTransactions: rows as given (fixtures, demo and benchmark loaders);
-- WITH ORDINALITY keeps the returned ids in the order of the rows.
INSERT INTO transactions (contact_id, type, value, currency, campaign_id, attributes, occurred_at)
SELECT c, t, v, cur, camp, a, o
FROM unnest($1::bigint[], $2::text[], $3::numeric[], $4::text[], $5::bigint[], $6::jsonb[], $7::timestamptz[])
    WITH ORDINALITY AS u(c, t, v, cur, camp, a, o, i)
ORDER BY i
RETURNING id;

-- name: backdate_contact
UPDATE contacts SET created_at = $2 WHERE id = $1;

-- name: attribute_keys
-- The attribute keys of the newest $1 contacts, for the template editor's
-- personalisation menu: a bounded sample, not a scan of every contact.
SELECT DISTINCT k FROM (SELECT attributes FROM contacts ORDER BY id DESC LIMIT $1) c,
    jsonb_object_keys(c.attributes) AS k
ORDER BY k LIMIT 100;

-- name: lock_contact
-- PATCH /contacts/{id}: the contact, locked while the patch is applied.
SELECT c.id, c.email, c.name, c.attributes, c.tags, c.status,
    c.consent_source, c.consent_at, host(c.consent_ip), c.created_at, c.updated_at,
    COALESCE(s.sent, 0), COALESCE(s.opens, 0), COALESCE(s.clicks, 0), c.conversions, c.revenue::float8,
    s.last_open_at, s.last_click_at, c.last_purchase_at
FROM contacts c LEFT JOIN contact_stats s ON s.contact_id = c.id WHERE c.id = $1 FOR UPDATE OF c;

-- name: patch_contact
-- PATCH /contacts/{id}: the profile as Patch worked it out from the locked row.
WITH c AS (UPDATE contacts AS c SET name = $2, attributes = $3, tags = $4, status = $5, updated_at = now()
WHERE c.id = $1 AND c.status <> 'erased'
RETURNING c.*)
SELECT c.id, c.email, c.name, c.attributes, c.tags, c.status,
    c.consent_source, c.consent_at, host(c.consent_ip), c.created_at, c.updated_at,
    COALESCE(s.sent, 0), COALESCE(s.opens, 0), COALESCE(s.clicks, 0), c.conversions, c.revenue::float8,
    s.last_open_at, s.last_click_at, c.last_purchase_at
FROM c LEFT JOIN contact_stats s ON s.contact_id = c.id;

-- name: create_bulk_job
-- POST /contacts/bulk: the job, queued; its River job is inserted in the same transaction.
INSERT INTO bulk_jobs (action, tag, selector, topic_id) VALUES ($1, $2, $3, $4) RETURNING id;

-- name: get_bulk_job
SELECT id, action, tag, selector, status, total, done, failed, cursor, batches, error,
    created_at, started_at, finished_at, expired_at, topic_id FROM bulk_jobs WHERE id = $1;

-- name: lock_bulk_job
-- A batch's first statement: the job's row, locked so that two runs of the
-- same job (a rescued one and a late one) cannot both commit a batch from
-- the same cursor.
SELECT id, action, tag, selector, status, total, done, failed, cursor, batches, error,
    created_at, started_at, finished_at, expired_at, topic_id FROM bulk_jobs WHERE id = $1 FOR UPDATE;

-- name: start_bulk_job
-- A job starts (or resumes: its cursor and counts stay); $2 is its total.
UPDATE bulk_jobs SET status = 'running', started_at = coalesce(started_at, now()),
    total = coalesce(total, $2) WHERE id = $1;

-- name: advance_bulk_job
-- One batch committed: the cursor moves past it and its counts are added.
UPDATE bulk_jobs SET cursor = $2, done = done + $3, failed = failed + $4, batches = batches + 1 WHERE id = $1;

-- name: finish_bulk_job
UPDATE bulk_jobs SET status = $2, error = $3, finished_at = now() WHERE id = $1;

-- name: store_bulk_export_chunk
-- An export's rows of one batch (seq = the batch's number; 0 is the header).
INSERT INTO bulk_export_chunks (job_id, seq, data) VALUES ($1, $2, $3)
ON CONFLICT (job_id, seq) DO UPDATE SET data = EXCLUDED.data;

-- name: read_bulk_export_chunk
SELECT data FROM bulk_export_chunks WHERE job_id = $1 AND seq = $2;

-- name: bulk_tag
-- A batch's tag: added where missing (at most 100 tags); answers how many of
-- the batch hold the tag afterwards. The CTE's SELECT sees the rows as they
-- were, so those that had the tag and those just tagged are both counted.
WITH u AS (
    UPDATE contacts SET tags = array_append(tags, $2), updated_at = now()
    WHERE id = ANY($1) AND status <> 'erased' AND NOT ($2 = ANY(tags)) AND cardinality(tags) < 100
    RETURNING id)
SELECT count(*) FROM contacts WHERE id = ANY($1) AND status <> 'erased'
    AND ($2 = ANY(tags) OR id IN (SELECT id FROM u));

-- name: bulk_untag
-- A batch's untag; answers how many of the batch are not erased (all of
-- them are without the tag afterwards).
WITH u AS (
    UPDATE contacts SET tags = array_remove(tags, $2), updated_at = now()
    WHERE id = ANY($1) AND status <> 'erased' AND $2 = ANY(tags)
    RETURNING id)
SELECT count(*) FROM contacts WHERE id = ANY($1) AND status <> 'erased';

-- name: bulk_suppress
-- A batch's suppression: active contacts become unsubscribed (a stronger
-- status stays); answers how many of the batch are not erased.
WITH u AS (
    UPDATE contacts SET status = 'unsubscribed', updated_at = now()
    WHERE id = ANY($1) AND status = 'active'
    RETURNING id)
SELECT count(*) FROM contacts WHERE id = ANY($1) AND status <> 'erased';

-- name: bulk_existing_ids
-- The ids of a batch that name contacts (an erase's unknown ids fail).
SELECT id FROM contacts WHERE id = ANY($1) ORDER BY id;

-- name: expire_bulk_exports
-- Exports finished before $1 lose their file (it holds personal data);
-- answers how many exports expired.
WITH j AS (
    UPDATE bulk_jobs SET expired_at = now()
    WHERE action = 'export' AND finished_at < $1 AND expired_at IS NULL
    RETURNING id),
d AS (DELETE FROM bulk_export_chunks c USING j WHERE c.job_id = j.id)
SELECT count(*) FROM j;

-- name: attribute_kinds
-- The attribute keys of the newest $1 contacts with the JSON type most of
-- their values have, for the segment builder's field list: a bounded
-- sample, not a scan of every contact.
SELECT k, mode() WITHIN GROUP (ORDER BY jsonb_typeof(v))
FROM (SELECT attributes FROM contacts ORDER BY id DESC LIMIT $1) c, jsonb_each(c.attributes) AS e(k, v)
GROUP BY k ORDER BY k LIMIT 100;

-- name: tag_values
-- The tags of the newest $1 contacts, for the segment builder.
SELECT DISTINCT t FROM (SELECT tags FROM contacts ORDER BY id DESC LIMIT $1) c, unnest(c.tags) AS t
ORDER BY t LIMIT 200;

-- name: attribute_values
-- The most common text values (at most 20 a key) of the attributes of the
-- newest $1 contacts, for the segment builder's suggestions.
SELECT k, v FROM (
    SELECT e.k, e.v #>> '{}' AS v, row_number() OVER (PARTITION BY e.k ORDER BY count(*) DESC, e.v #>> '{}') AS rn
    FROM (SELECT attributes FROM contacts ORDER BY id DESC LIMIT $1) c, jsonb_each(c.attributes) AS e(k, v)
    WHERE jsonb_typeof(e.v) = 'string'
    GROUP BY e.k, e.v
) x WHERE rn <= 20 ORDER BY k, rn;

-- name: sendable_on
-- Which of the contacts $1 may be sent to on a channel: $2 true is email,
-- where the contact's status must be active; on a webhook kind only
-- erasure and a pending signup (no consent confirmed on any channel) count. $3 are the suppression channels that hold the channel
-- back (email: email and *; a webhook kind: the kind, webhook and *).
SELECT c.id FROM contacts c
WHERE c.id = ANY ($1::bigint[])
  AND (CASE WHEN $2::boolean THEN c.status = 'active' ELSE c.status NOT IN ('erased', 'pending') END)
  AND NOT EXISTS (SELECT 1 FROM suppressions s WHERE s.kind = 'address' AND s.value = c.email_key AND s.channel = ANY ($3::text[]))
  AND NOT EXISTS (SELECT 1 FROM suppressions s WHERE s.kind = 'domain' AND s.value = split_part(c.email_key, '@', 2) AND s.channel = ANY ($3::text[]))
ORDER BY c.id;

-- name: contact_channel_suppressions
-- The suppressions holding contact $1 back, any channel: its address, and
-- its domain.
SELECT s.id, s.kind, s.value, s.reason, s.created_at, s.channel FROM suppressions s, contacts c
WHERE c.id = $1 AND ((s.kind = 'address' AND s.value = c.email_key)
   OR (s.kind = 'domain' AND c.status <> 'erased' AND s.value = split_part(c.email_key, '@', 2)))
ORDER BY s.channel, s.id;

-- name: contact_id_by_email_key
-- The contact an address suppression names, if any.
SELECT id FROM contacts WHERE email_key = $1 AND status <> 'erased';

-- name: bulk_live_ids
-- A bulk batch's contacts that exist and are not erased, in id order.
SELECT id FROM contacts WHERE id = ANY ($1::bigint[]) AND status <> 'erased' ORDER BY id;

-- name: signup_contact
-- The contact a signup form found for an address.
SELECT id, status FROM contacts WHERE email_key = lower($1);

-- name: activate_contact
-- A confirmed signup: pending → active, nothing else.
UPDATE contacts SET status = 'active', updated_at = now() WHERE id = $1 AND status = 'pending'
RETURNING id;
-- name: transaction_by_idempotency_key
-- POST /events with a key already used: the stored event and the digest
-- of the body it was first posted with.
SELECT id, contact_id, type, value::float8, currency, campaign_id, delivery_id, attributes,
    occurred_at, created_at, coalesce(idempotency_hash, '')
FROM transactions WHERE idempotency_key = $1;

-- name: timeline
-- A contact's timeline, newest first, one keyset page: contact events
-- (transactions, k = 3), tracking events of its deliveries (k = 2, found
-- through deliveries: events has no contact index) and its deliveries
-- (k = 1), each branch ordered and limited on its own, then merged. $2
-- lists the kinds to show (empty: all); the page starts below the cursor
-- ($3 at, $4 k, $5 id; 'infinity' for the first page). $6 is the page size.
SELECT * FROM (
  (SELECT 3 AS k, t.id, t.occurred_at AS at, t.type, t.value::float8, t.currency, t.campaign_id,
      coalesce(c.name, ''), '' AS step, '' AS url, false AS machine, '' AS reason, t.attributes
   FROM transactions t LEFT JOIN campaigns c ON c.id = t.campaign_id
   WHERE t.contact_id = $1 AND (cardinality($2::text[]) = 0 OR 'event' = ANY($2))
     AND (t.occurred_at, 3, t.id) < ($3::timestamptz, $4::int, $5::bigint)
   ORDER BY t.occurred_at DESC, t.id DESC LIMIT $6)
  UNION ALL
  (SELECT 2, e.id, e.occurred_at, e.type, e.value::float8, '', e.campaign_id,
      c.name, e.step, coalesce(l.url, ''), e.machine, e.reason, '{}'::jsonb
   FROM deliveries d
   JOIN events e ON e.delivery_id = d.id
   JOIN campaigns c ON c.id = e.campaign_id
   LEFT JOIN campaign_links l ON l.campaign_id = e.campaign_id AND l.step = e.step AND l.idx = e.link_idx
   WHERE d.contact_id = $1 AND (cardinality($2::text[]) = 0 OR 'tracking' = ANY($2))
     AND (e.occurred_at, 2, e.id) < ($3::timestamptz, $4::int, $5::bigint)
     AND (NOT e.followed OR e.id <= (SELECT id FROM tracking_watermark)) -- folded only (export_events)
   ORDER BY e.occurred_at DESC, e.id DESC LIMIT $6)
  UNION ALL
  (SELECT 1, d.id, coalesce(d.bounced_at, d.sent_at, d.queued_at), d.status, 0::float8, '', d.campaign_id,
      c.name, d.step, '', false, d.last_error, '{}'::jsonb
   FROM deliveries d JOIN campaigns c ON c.id = d.campaign_id
   WHERE d.contact_id = $1 AND (cardinality($2::text[]) = 0 OR 'delivery' = ANY($2))
     AND (coalesce(d.bounced_at, d.sent_at, d.queued_at), 1, d.id) < ($3::timestamptz, $4::int, $5::bigint)
   ORDER BY coalesce(d.bounced_at, d.sent_at, d.queued_at) DESC, d.id DESC LIMIT $6)
) tl ORDER BY at DESC, k DESC, id DESC LIMIT $6;

-- name: contact_events
-- GET /contacts/{id}/events: the contact's events (transactions), newest
-- first, one keyset page below ($3 occurred_at, $4 id); $2 a type or ''.
SELECT id, contact_id, type, value::float8, currency, campaign_id, delivery_id, attributes,
    occurred_at, created_at, coalesce(idempotency_key, '')
FROM transactions
WHERE contact_id = $1 AND ($2 = '' OR type = $2) AND (occurred_at, id) < ($3::timestamptz, $4::bigint)
ORDER BY occurred_at DESC, id DESC LIMIT $5;

-- name: describe_event_import
-- An events import (POST /events/import): its kind, file and choices.
UPDATE imports SET kind = 'events', filename = $2, size = $3, delimiter = $4, create_contacts = $5 WHERE id = $1;

-- name: event_import_contacts_by_id
-- An events import's batch: the contacts its lines name by id.
SELECT id, status, email_key FROM contacts WHERE id = ANY($1);

-- name: event_import_contacts_by_email
-- An events import's batch: the contacts its lines name by email.
SELECT id, status, email_key FROM contacts WHERE email_key = ANY($1);

-- name: event_import_create_contacts
-- An events import with create_contacts: the new addresses become
-- contacts (an address added meanwhile is left alone and read back).
INSERT INTO contacts (email) SELECT unnest($1::text[]) ON CONFLICT (email_key) DO NOTHING;

-- name: event_import_insert
-- An events import's batch, as given; a row whose idempotency key is
-- already stored (a retried job's line, or a key the API saw) inserts
-- nothing and is not returned.
INSERT INTO transactions (contact_id, type, value, currency, attributes, occurred_at, idempotency_key, idempotency_hash)
SELECT c, t, v, cur, a, o, NULLIF(k, ''), NULLIF(h, '')
FROM unnest($1::bigint[], $2::text[], $3::numeric[], $4::text[], $5::jsonb[], $6::timestamptz[], $7::text[], $8::text[])
    AS u(c, t, v, cur, a, o, k, h)
ON CONFLICT (idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
RETURNING coalesce(idempotency_key, '');

-- name: event_import_stored_keys
-- The digests stored under keys an events import's lines reuse.
SELECT idempotency_key, coalesce(idempotency_hash, '') FROM transactions WHERE idempotency_key = ANY($1);
-- name: events_after
-- The contact's events of types $3 recorded after event $2 (a journey's
-- entry checks that no exit event overtook it), oldest first.
SELECT id, contact_id, type, value::float8, currency, campaign_id, delivery_id, attributes, occurred_at, created_at
FROM transactions WHERE contact_id = $1 AND id > $2 AND type = ANY ($3::text[]) ORDER BY id LIMIT $4;
-- name: event_types
-- The contact event types recorded so far, for the journey builder's
-- choices (the most recent events first).
SELECT DISTINCT type FROM (SELECT type FROM transactions ORDER BY id DESC LIMIT 10000) t ORDER BY type LIMIT 200;
-- name: insert_contact_by_email_tagged
-- insert_contact_by_email with a tag saying where the contact came from.
INSERT INTO contacts (email, tags) VALUES ($1, ARRAY[$2::text]) ON CONFLICT (email_key) DO NOTHING RETURNING id;

-- name: sendability
-- A contact's status and whether its address or domain is suppressed.
SELECT c.status,
	EXISTS (SELECT 1 FROM suppressions s WHERE s.kind = 'address' AND s.value = c.email_key),
	EXISTS (SELECT 1 FROM suppressions s WHERE s.kind = 'domain' AND s.value = split_part(c.email_key, '@', 2))
FROM contacts c WHERE c.id = $1;

-- name: sendability_many
-- sendability for many contacts: each one's id, status and whether its
-- address or domain is suppressed.
SELECT c.id, c.status,
	EXISTS (SELECT 1 FROM suppressions s WHERE s.kind = 'address' AND s.value = c.email_key),
	EXISTS (SELECT 1 FROM suppressions s WHERE s.kind = 'domain' AND s.value = split_part(c.email_key, '@', 2))
FROM contacts c WHERE c.id = ANY($1);

-- name: group_stored_events
-- POST /events, a group (EventWriter): the events stored under any of the
-- keys $1 and the digests of the bodies they were first posted with.
SELECT id, contact_id, type, value::float8, currency, campaign_id, delivery_id, attributes,
    occurred_at, created_at, coalesce(idempotency_hash, ''), idempotency_key
FROM transactions WHERE idempotency_key = ANY ($1::text[]);

-- name: group_campaigns_exist
-- POST /events, a group: which of the campaign ids $1 exist.
SELECT id FROM campaigns WHERE id = ANY ($1::bigint[]);

-- name: group_lock_contacts
-- POST /events, a group: the contacts named by id, locked in id order (so
-- two groups cannot deadlock on them) so an erasure cannot pass them.
SELECT id, status, email_key FROM contacts WHERE id = ANY ($1::bigint[]) ORDER BY id FOR UPDATE;

-- name: group_insert_contacts
-- POST /events, a group: a new contact for each address $1 (normalised,
-- one per email_key) that has none; the ones inserted.
INSERT INTO contacts (email) SELECT e FROM unnest($1::text[]) e
ON CONFLICT (email_key) DO NOTHING RETURNING id, email_key;

-- name: group_contacts_by_key
-- POST /events, a group: the contacts of the email keys $1 (a statement of
-- its own, so it sees contacts committed while group_insert_contacts waited).
SELECT id, email_key FROM contacts WHERE email_key = ANY ($1::text[]);

-- name: group_transaction_ids
-- POST /events, a group: ids for $1 new transactions, in order.
SELECT nextval(pg_get_serial_sequence('transactions', 'id')) FROM generate_series(1, $1::int);

-- name: group_insert_transactions
-- POST /events, a group: the transactions, one per element of the arrays.
-- A key already stored inserts nothing (its id is missing from the answer):
-- the group then stores each event alone.
INSERT INTO transactions (id, contact_id, type, value, currency, campaign_id, attributes, occurred_at,
    idempotency_key, idempotency_hash)
SELECT id, c, t, v, cur, camp, a::jsonb, o, NULLIF(k, ''), NULLIF(h, '')
FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::float8[], $5::text[], $6::bigint[], $7::text[],
    $8::timestamptz[], $9::text[], $10::text[]) AS u(id, c, t, v, cur, camp, a, o, k, h)
ON CONFLICT (idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
RETURNING id, contact_id, type, value::float8, currency, campaign_id, delivery_id, attributes, occurred_at, created_at;
