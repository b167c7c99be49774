-- Per-channel suppressions (issue 20). Until now every suppression held
-- back every channel, and a contact's status (unsubscribed, bounced,
-- complained) stopped the webhook channel (SMS) as well as email.
--
-- A suppression now names its channel: "email"; a webhook channel's kind
-- ("sms"); "webhook" for every webhook kind; "*" for every channel. The
-- contact's status stays the email channel's own state (an unsubscribe
-- link, a bounce and a complaint are email facts); a webhook kind's
-- opt-out is a suppression of the contact's address on that channel.
ALTER TABLE suppressions ADD COLUMN channel text NOT NULL DEFAULT 'email'
    CHECK (channel = '*' OR channel ~ '^[a-z][a-z0-9_-]{0,31}$');

-- Nothing already suppressed becomes sendable: the rows that exist held
-- back every channel, so they keep doing so...
UPDATE suppressions SET channel = '*';
ALTER TABLE suppressions DROP CONSTRAINT suppressions_kind_value_key;
ALTER TABLE suppressions ADD CONSTRAINT suppressions_kind_value_channel_key UNIQUE (kind, value, channel);

-- ...and a contact whose status kept it from the webhook channel keeps
-- being held back there, by a suppression of its address on every webhook
-- kind (email goes on reading the status). Deleting the row lets the
-- webhook channels reach the contact again.
INSERT INTO suppressions (kind, value, channel, reason)
SELECT 'address', email_key, 'webhook', 'contact ' || status || ' before channels were separate (migration 031)'
FROM contacts WHERE status IN ('unsubscribed', 'bounced', 'complained')
ON CONFLICT (kind, value, channel) DO NOTHING;

---- create above / drop below ----

DELETE FROM suppressions WHERE channel = 'webhook' AND reason LIKE '% before channels were separate (migration 031)';
DELETE FROM suppressions s WHERE channel <> '*'
    AND EXISTS (SELECT 1 FROM suppressions o WHERE o.kind = s.kind AND o.value = s.value AND o.id < s.id);
ALTER TABLE suppressions DROP CONSTRAINT suppressions_kind_value_channel_key;
ALTER TABLE suppressions ADD CONSTRAINT suppressions_kind_value_key UNIQUE (kind, value);
ALTER TABLE suppressions DROP COLUMN channel;
