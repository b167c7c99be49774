-- The references of the hot inserts are checked once per statement instead
-- of once per row (issue 22). deliveries.campaign_id → campaigns,
-- deliveries.contact_id → contacts and campaign_people.campaign_id →
-- campaigns were foreign keys: each inserted row ran an RI trigger that
-- probed the parent's primary key and locked the parent row FOR KEY SHARE,
-- which for the contact is a heap lock WAL record and a dirtied contacts
-- page per recipient (≈ 9 µs of the launch insert's 18–22 µs per row, and
-- ≈ 3 µs of the people insert's). The same guarantees, now per statement:
--
-- * An insert naming a campaign or contact that does not exist fails with
--   foreign_key_violation (23503), the old constraint's name and the same
--   message and detail, naming an offending id; the statement triggers
--   check all of a statement's new rows at once (a launch page inserts one
--   campaign's rows: one campaign row locked, not one per recipient).
-- * Campaigns: the insert locks each distinct campaign it references FOR
--   KEY SHARE, once per statement, as the foreign key did once per row.
--   DELETE of a campaign needs a lock that conflicts with it, so a deletion
--   and an insert for the same campaign are ordered exactly as before:
--   either the insert waits for the deletion to commit and then finds the
--   campaign gone (the locking read skips a row deleted meanwhile, and the
--   insert fails), or the deletion waits for the insert to commit and its
--   cascade (a statement trigger on campaigns, whose DELETE takes a fresh
--   snapshot under READ COMMITTED) sees and deletes the new rows.
-- * Contacts: instead of a lock on every contact row, an advisory lock
--   shared by every statement inserting deliveries and exclusive for a
--   statement deleting contacts (or changing a contact's id), both held to
--   commit. The insert takes it shared after its rows are in, then checks
--   its contacts with a snapshot taken after the lock was granted; the
--   deletion takes it exclusively after its rows are gone, then cascades
--   with a snapshot taken after that. So either the deletion committed
--   before the insert's check (which sees the contact gone and fails), or
--   every insert that passed its check has committed before the cascade's
--   snapshot (which sees and deletes its rows): no delivery outlives its
--   contact, none is refused for a contact that exists. The price: a
--   deletion of contacts waits for the delivery inserts in progress (a
--   launch page's transaction) and holds new ones until it commits. Peykar
--   itself never deletes contacts (an erasure, tracking/erase.go and
--   campaigns/contacts' erase_contact, anonymises the row in place; bulk
--   erase and merges do the same), so only an operator's DELETE pays it.
--   One interleaving ends differently: if an inserting transaction, after
--   its insert, waits for a contact row that a deletion (now waiting for
--   the lock) has removed, the two wait for each other, and PostgreSQL
--   breaks the deadlock by failing one of them (40P01); with the foreign
--   key the deletion waited only for inserts naming the contacts it
--   deleted. Neither ever commits a delivery without its contact.
-- * Deleting cascades as before: a contact's or campaign's deliveries (and
--   with them, by their own triggers and keys, their events, rule firings,
--   and the references of transactions and messages), a campaign's
--   campaign_people. TRUNCATE … CASCADE of contacts or campaigns truncates
--   them too. Changing the id of a referenced contact or campaign is
--   refused (the keys were ON UPDATE NO ACTION), and so is pointing an
--   existing row at a missing parent.
-- * The trick of the fresh snapshot holds under READ COMMITTED, which is
--   what Peykar's writers use. Under REPEATABLE READ or SERIALIZABLE an
--   insert falls back to locking every referenced row FOR KEY SHARE (what
--   the foreign key did, with its serialization failure when a parent was
--   deleted after the snapshot), and a deletion of contacts or campaigns
--   is refused: its cascade could not see rows committed after its
--   snapshot, where the foreign key's cascade raised a serialization
--   failure instead.

ALTER TABLE deliveries DROP CONSTRAINT deliveries_campaign_id_fkey;
ALTER TABLE deliveries DROP CONSTRAINT deliveries_contact_id_fkey;
ALTER TABLE campaign_people DROP CONSTRAINT campaign_people_campaign_id_fkey;

-- The advisory lock key of deliveries' contact references.
CREATE FUNCTION delivery_contact_refs_key() RETURNS bigint LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN hashtextextended('peykar/deliveries/contact_id', 0);

-- Raises the foreign key's error for tbl's row naming a missing parent.
CREATE FUNCTION refs_violation(tbl text, col text, parent text, missing bigint) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    con text := tbl || '_' || col || '_fkey';
BEGIN
    RAISE EXCEPTION 'insert or update on table "%" violates foreign key constraint "%"', tbl, con
        USING ERRCODE = 'foreign_key_violation', CONSTRAINT = con, TABLE = tbl, COLUMN = col,
              SCHEMA = current_schema(),
              DETAIL = format('Key (%s)=(%s) is not present in table "%s".', col, missing, parent);
END $$;

-- Checks that the campaigns and contacts named by rows just written to tbl
-- exist and keeps them from being deleted until the transaction ends, for
-- the row triggers of updates (the insert triggers below do the same from
-- their transition tables).
-- campaign_ids are distinct; contact_ids may repeat, or be NULL when tbl
-- has no contact reference.
CREATE FUNCTION check_refs(tbl text, campaign_ids bigint[], contact_ids bigint[]) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    locked  bigint;
    missing bigint;
BEGIN
    IF cardinality(campaign_ids) > 0 THEN
        SELECT count(*) INTO locked FROM (
            SELECT 1 FROM campaigns WHERE id = ANY (campaign_ids) ORDER BY id FOR KEY SHARE) s;
        IF locked < cardinality(campaign_ids) THEN
            SELECT i INTO missing FROM unnest(campaign_ids) i
            WHERE NOT EXISTS (SELECT 1 FROM campaigns c WHERE c.id = i) LIMIT 1;
            PERFORM refs_violation(tbl, 'campaign_id', 'campaigns', missing);
        END IF;
    END IF;
    IF cardinality(contact_ids) > 0 THEN
        PERFORM pg_advisory_xact_lock_shared(delivery_contact_refs_key());
        IF current_setting('transaction_isolation') = 'read committed' THEN
            -- This query's snapshot is newer than the lock.
            SELECT i INTO missing FROM unnest(contact_ids) i
            WHERE NOT EXISTS (SELECT 1 FROM contacts c WHERE c.id = i) LIMIT 1;
        ELSE
            SELECT i INTO missing FROM unnest(contact_ids) i
            LEFT JOIN (SELECT id FROM contacts WHERE id = ANY (contact_ids) FOR KEY SHARE) c ON c.id = i
            WHERE c.id IS NULL LIMIT 1;
        END IF;
        IF FOUND THEN
            PERFORM refs_violation(tbl, 'contact_id', 'contacts', missing);
        END IF;
    END IF;
END $$;

-- The insert triggers read their transition table directly rather than
-- through check_refs' arrays: a query with an array parameter is planned
-- again on every call (its custom plan looks cheaper than the generic one),
-- which made a one-row statement (a rule's send, a transactional message)
-- cost ≈ 60 µs more than with the foreign keys. Without parameters the
-- plans are made once per session; OFFSET 0 keeps each contact a probe of
-- the primary key whatever size the first statement had (a plan cached
-- from a launch page could otherwise hash the whole contacts table for a
-- one-row insert).
CREATE FUNCTION deliveries_insert_refs() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    wanted  bigint;
    locked  bigint;
    missing bigint;
BEGIN
    SELECT count(DISTINCT campaign_id) INTO wanted FROM deliveries_new;
    IF wanted = 0 THEN
        RETURN NULL;  -- ON CONFLICT DO NOTHING skipped every row
    END IF;
    PERFORM FROM campaigns WHERE id IN (SELECT campaign_id FROM deliveries_new) FOR KEY SHARE;
    GET DIAGNOSTICS locked = ROW_COUNT;
    IF locked < wanted THEN
        SELECT n.campaign_id INTO missing FROM deliveries_new n
        WHERE NOT EXISTS (SELECT 1 FROM campaigns c WHERE c.id = n.campaign_id) LIMIT 1;
        PERFORM refs_violation('deliveries', 'campaign_id', 'campaigns', missing);
    END IF;
    PERFORM pg_advisory_xact_lock_shared(delivery_contact_refs_key());
    IF current_setting('transaction_isolation') = 'read committed' THEN
        -- This query's snapshot is newer than the lock.
        SELECT n.contact_id INTO missing FROM deliveries_new n
        WHERE NOT EXISTS (SELECT 1 FROM contacts c WHERE c.id = n.contact_id OFFSET 0) LIMIT 1;
    ELSE
        SELECT n.contact_id INTO missing FROM deliveries_new n
        LEFT JOIN (SELECT id FROM contacts WHERE id IN (SELECT contact_id FROM deliveries_new) FOR KEY SHARE) c
            ON c.id = n.contact_id
        WHERE c.id IS NULL LIMIT 1;
    END IF;
    IF FOUND THEN
        PERFORM refs_violation('deliveries', 'contact_id', 'contacts', missing);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER deliveries_insert_refs AFTER INSERT ON deliveries REFERENCING NEW TABLE AS deliveries_new
    FOR EACH STATEMENT EXECUTE FUNCTION deliveries_insert_refs();

-- Nothing updates the references today; a row trigger limited to updates
-- that change one keeps them checked at no cost to the claims and outcomes
-- (an UPDATE OF trigger is not even queued when the statement does not set
-- those columns).
CREATE FUNCTION deliveries_update_refs() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM check_refs('deliveries', ARRAY[NEW.campaign_id], ARRAY[NEW.contact_id]);
    RETURN NULL;
END $$;

CREATE TRIGGER deliveries_update_refs AFTER UPDATE OF campaign_id, contact_id ON deliveries FOR EACH ROW
    WHEN (OLD.campaign_id IS DISTINCT FROM NEW.campaign_id OR OLD.contact_id IS DISTINCT FROM NEW.contact_id)
    EXECUTE FUNCTION deliveries_update_refs();

CREATE FUNCTION campaign_people_insert_refs() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    wanted  bigint;
    locked  bigint;
    missing bigint;
BEGIN
    SELECT count(DISTINCT campaign_id) INTO wanted FROM campaign_people_new;
    IF wanted = 0 THEN
        RETURN NULL;
    END IF;
    PERFORM FROM campaigns WHERE id IN (SELECT campaign_id FROM campaign_people_new) FOR KEY SHARE;
    GET DIAGNOSTICS locked = ROW_COUNT;
    IF locked < wanted THEN
        SELECT n.campaign_id INTO missing FROM campaign_people_new n
        WHERE NOT EXISTS (SELECT 1 FROM campaigns c WHERE c.id = n.campaign_id) LIMIT 1;
        PERFORM refs_violation('campaign_people', 'campaign_id', 'campaigns', missing);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER campaign_people_insert_refs AFTER INSERT ON campaign_people REFERENCING NEW TABLE AS campaign_people_new
    FOR EACH STATEMENT EXECUTE FUNCTION campaign_people_insert_refs();

CREATE FUNCTION campaign_people_update_refs() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM check_refs('campaign_people', ARRAY[NEW.campaign_id], NULL);
    RETURN NULL;
END $$;

CREATE TRIGGER campaign_people_update_refs AFTER UPDATE OF campaign_id ON campaign_people FOR EACH ROW
    WHEN (OLD.campaign_id IS DISTINCT FROM NEW.campaign_id)
    EXECUTE FUNCTION campaign_people_update_refs();

-- The parents' side: deletes cascade, id changes of referenced rows fail.

CREATE FUNCTION refs_require_read_committed(parent text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        RAISE EXCEPTION 'deleting from % needs READ COMMITTED isolation', parent
            USING ERRCODE = 'feature_not_supported',
                  DETAIL = 'deliveries referencing the deleted rows are deleted by a trigger that must see rows committed after the transaction''s snapshot (migration 047).';
    END IF;
END $$;

CREATE FUNCTION contacts_delete_refs() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM refs_require_read_committed('contacts');
    -- Waits for every delivery insert in progress; the DELETE below sees
    -- what they committed.
    PERFORM pg_advisory_xact_lock(delivery_contact_refs_key());
    DELETE FROM deliveries d USING contacts_old o WHERE d.contact_id = o.id;
    RETURN NULL;
END $$;

CREATE TRIGGER contacts_delete_refs AFTER DELETE ON contacts REFERENCING OLD TABLE AS contacts_old
    FOR EACH STATEMENT EXECUTE FUNCTION contacts_delete_refs();

CREATE FUNCTION campaigns_delete_refs() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM refs_require_read_committed('campaigns');
    -- The DELETE that fired this waited on the campaign rows' FOR KEY SHARE
    -- locks, so this statement's snapshot sees every insert that took one.
    DELETE FROM deliveries d USING campaigns_old o WHERE d.campaign_id = o.id;
    DELETE FROM campaign_people p USING campaigns_old o WHERE p.campaign_id = o.id;
    RETURN NULL;
END $$;

CREATE TRIGGER campaigns_delete_refs AFTER DELETE ON campaigns REFERENCING OLD TABLE AS campaigns_old
    FOR EACH STATEMENT EXECUTE FUNCTION campaigns_delete_refs();

CREATE FUNCTION contacts_update_id_refs() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(delivery_contact_refs_key());
    IF EXISTS (SELECT 1 FROM deliveries WHERE contact_id = OLD.id) THEN
        RAISE EXCEPTION 'update or delete on table "contacts" violates foreign key constraint "deliveries_contact_id_fkey" on table "deliveries"'
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'deliveries_contact_id_fkey', TABLE = 'deliveries',
                  DETAIL = format('Key (id)=(%s) is still referenced from table "deliveries".', OLD.id);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER contacts_update_id_refs AFTER UPDATE OF id ON contacts FOR EACH ROW
    WHEN (OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION contacts_update_id_refs();

CREATE FUNCTION campaigns_update_id_refs() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    tbl text;
BEGIN
    IF EXISTS (SELECT 1 FROM deliveries WHERE campaign_id = OLD.id) THEN
        tbl := 'deliveries';
    ELSIF EXISTS (SELECT 1 FROM campaign_people WHERE campaign_id = OLD.id) THEN
        tbl := 'campaign_people';
    ELSE
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'update or delete on table "campaigns" violates foreign key constraint "%" on table "%"', tbl || '_campaign_id_fkey', tbl
        USING ERRCODE = 'foreign_key_violation', CONSTRAINT = tbl || '_campaign_id_fkey', TABLE = tbl,
              DETAIL = format('Key (id)=(%s) is still referenced from table "%s".', OLD.id, tbl);
END $$;

CREATE TRIGGER campaigns_update_id_refs AFTER UPDATE OF id ON campaigns FOR EACH ROW
    WHEN (OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION campaigns_update_id_refs();

-- TRUNCATE … CASCADE followed the foreign keys; it follows the triggers now.
CREATE FUNCTION contacts_truncate_refs() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    TRUNCATE deliveries CASCADE;
    RETURN NULL;
END $$;

CREATE TRIGGER contacts_truncate_refs AFTER TRUNCATE ON contacts
    FOR EACH STATEMENT EXECUTE FUNCTION contacts_truncate_refs();

CREATE FUNCTION campaigns_truncate_refs() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    TRUNCATE deliveries, campaign_people CASCADE;
    RETURN NULL;
END $$;

CREATE TRIGGER campaigns_truncate_refs AFTER TRUNCATE ON campaigns
    FOR EACH STATEMENT EXECUTE FUNCTION campaigns_truncate_refs();

---- create above / drop below ----

DROP TRIGGER campaigns_truncate_refs ON campaigns;
DROP TRIGGER contacts_truncate_refs ON contacts;
DROP TRIGGER campaigns_update_id_refs ON campaigns;
DROP TRIGGER contacts_update_id_refs ON contacts;
DROP TRIGGER campaigns_delete_refs ON campaigns;
DROP TRIGGER contacts_delete_refs ON contacts;
DROP TRIGGER campaign_people_update_refs ON campaign_people;
DROP TRIGGER campaign_people_insert_refs ON campaign_people;
DROP TRIGGER deliveries_update_refs ON deliveries;
DROP TRIGGER deliveries_insert_refs ON deliveries;
DROP FUNCTION campaigns_truncate_refs();
DROP FUNCTION contacts_truncate_refs();
DROP FUNCTION campaigns_update_id_refs();
DROP FUNCTION contacts_update_id_refs();
DROP FUNCTION campaigns_delete_refs();
DROP FUNCTION contacts_delete_refs();
DROP FUNCTION refs_require_read_committed(text);
DROP FUNCTION campaign_people_update_refs();
DROP FUNCTION campaign_people_insert_refs();
DROP FUNCTION deliveries_update_refs();
DROP FUNCTION deliveries_insert_refs();
DROP FUNCTION check_refs(text, bigint[], bigint[]);
DROP FUNCTION refs_violation(text, text, text, bigint);
DROP FUNCTION delivery_contact_refs_key();

-- The keys come back (validated: the triggers kept every row's parents).
ALTER TABLE campaign_people ADD CONSTRAINT campaign_people_campaign_id_fkey
    FOREIGN KEY (campaign_id) REFERENCES campaigns (id) ON DELETE CASCADE;
ALTER TABLE deliveries ADD CONSTRAINT deliveries_contact_id_fkey
    FOREIGN KEY (contact_id) REFERENCES contacts (id) ON DELETE CASCADE;
ALTER TABLE deliveries ADD CONSTRAINT deliveries_campaign_id_fkey
    FOREIGN KEY (campaign_id) REFERENCES campaigns (id) ON DELETE CASCADE;
