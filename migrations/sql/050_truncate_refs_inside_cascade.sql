-- TRUNCATE contacts CASCADE (and campaigns CASCADE) failed since
-- migration 047 (SQLSTATE 55006): the outer statement already truncates
-- every table with a foreign key to contacts, transactions among them,
-- and 047's AFTER TRUNCATE trigger then ran TRUNCATE deliveries CASCADE,
-- whose cascade reaches transactions again (its delivery_id references
-- deliveries), a table this session's statement is still using. So the
-- trigger truncates when it can and, when the outer cascade holds a table
-- its own cascade would reach, deletes the rows instead: the same end
-- state (the deliveries' own foreign keys and 047's statement triggers
-- remove what depends on them), slower, and only for an operator's
-- whole-table wipe, which Peykar itself never does.
CREATE OR REPLACE FUNCTION contacts_truncate_refs() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    BEGIN
        TRUNCATE deliveries CASCADE;
    EXCEPTION WHEN object_in_use THEN
        DELETE FROM deliveries;
    END;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION campaigns_truncate_refs() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    BEGIN
        TRUNCATE deliveries, campaign_people CASCADE;
    EXCEPTION WHEN object_in_use THEN
        DELETE FROM deliveries;
        DELETE FROM campaign_people;
    END;
    RETURN NULL;
END $$;

---- create above / drop below ----

CREATE OR REPLACE FUNCTION contacts_truncate_refs() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    TRUNCATE deliveries CASCADE;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION campaigns_truncate_refs() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    TRUNCATE deliveries, campaign_people CASCADE;
    RETURN NULL;
END $$;
