-- Contact events are first-class (issue 19). An event posted with an
-- idempotency_key is stored once: the unique index decides between
-- concurrent posts, and idempotency_hash (a digest of the body the key was
-- first used with) tells a retry from a key reused for a different event.
-- Keys are global, not per contact: a client that names the contact by
-- email cannot know its id, and a key such as an order id names the event
-- itself.
ALTER TABLE transactions
    ADD COLUMN idempotency_key text,
    ADD COLUMN idempotency_hash text;
CREATE UNIQUE INDEX transactions_idempotency_key_idx ON transactions (idempotency_key)
    WHERE idempotency_key IS NOT NULL;

-- Historical events are imported like contacts (the same imports row,
-- file chunks and River job): kind says which, and create_contacts whether
-- an event for an unknown email creates its contact (the default refuses
-- the line).
ALTER TABLE imports
    ADD COLUMN kind text NOT NULL DEFAULT 'contacts' CHECK (kind IN ('contacts', 'events')),
    ADD COLUMN create_contacts boolean NOT NULL DEFAULT false;

---- create above / drop below ----

ALTER TABLE imports DROP COLUMN kind, DROP COLUMN create_contacts;
DROP INDEX transactions_idempotency_key_idx;
ALTER TABLE transactions DROP COLUMN idempotency_key, DROP COLUMN idempotency_hash;
