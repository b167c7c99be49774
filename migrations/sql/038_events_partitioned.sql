-- Tracking events are partitioned by month of occurred_at (issue 23), so a
-- year of history is kept, or a month of it dropped, as whole tables: a
-- DROP TABLE instead of a DELETE of millions of rows and the vacuum after
-- it. occurred_at is the column reports and rollups bucket by; a month is
-- a UTC calendar month, named events_yYYYYmMM (tracking.PartitionName makes
-- the same names); events_default catches what no month holds (tracking's
-- partition job moves such rows into their month when it creates it, and
-- /metrics shows how many there are).
--
-- A partitioned table's primary key must include the partition key, so the
-- key is (id, occurred_at). Ids still come only from events_id_seq (the
-- tracking writer takes them with nextval before it inserts), so an id
-- still names one event. events has no other unique index and no foreign
-- key points at it (014 removed its own to deliveries; deliveries' delete
-- trigger deletes their events by delivery_id, which works the same on a
-- partitioned table).
--
-- An existing table is copied, not attached whole, so its old months can be
-- dropped one by one later: every row, the id sequence (re-owned by the new
-- column), every index (re-created from its own definition, so indexes that
-- later migrations added come along), the CHECK constraints and defaults
-- (LIKE) and the grants. Measured: docs/scaling.md ("Event history and
-- retention").
DO $$
DECLARE
    seq       text := pg_get_serial_sequence('events', 'id');
    defs      text[];
    def       text;
    g         record;
    m         timestamptz;
BEGIN
    IF EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = 'events'::regclass AND NOT tgisinternal) THEN
        RAISE EXCEPTION 'events has triggers: migration 038 does not carry triggers over; add them to it';
    END IF;
    SELECT coalesce(array_agg(pg_get_indexdef(indexrelid) ORDER BY indexrelid), '{}') INTO defs
    FROM pg_index WHERE indrelid = 'events'::regclass AND NOT indisprimary;

    -- Free the names: the old table, its key and indexes.
    ALTER TABLE events RENAME TO events_unpartitioned;
    ALTER INDEX events_pkey RENAME TO events_unpartitioned_pkey;
    FOR def IN SELECT indexrelid::regclass::text FROM pg_index
            WHERE indrelid = 'events_unpartitioned'::regclass AND NOT indisprimary LOOP
        EXECUTE format('DROP INDEX %s', def);
    END LOOP;

    CREATE TABLE events (LIKE events_unpartitioned INCLUDING DEFAULTS INCLUDING CONSTRAINTS
        INCLUDING STORAGE INCLUDING COMMENTS INCLUDING STATISTICS)
        PARTITION BY RANGE (occurred_at);
    EXECUTE format('ALTER SEQUENCE %s OWNED BY events.id', seq);
    CREATE TABLE events_default PARTITION OF events DEFAULT;

    -- A month for every month that has events (only those: one stray date
    -- must not make hundreds of empty months) and for this month and the
    -- three ahead, as tracking's partition job keeps them.
    FOR m IN SELECT DISTINCT date_trunc('month', occurred_at, 'UTC') FROM events_unpartitioned
            UNION SELECT date_trunc('month', now(), 'UTC') + k * interval '1 month' FROM generate_series(0, 3) k
            ORDER BY 1 LOOP
        EXECUTE format('CREATE TABLE %I PARTITION OF events FOR VALUES FROM (%L) TO (%L)',
            'events_y' || to_char(m AT TIME ZONE 'UTC', 'YYYY') || 'm' || to_char(m AT TIME ZONE 'UTC', 'MM'),
            to_char(m AT TIME ZONE 'UTC', 'YYYY-MM-DD') || ' 00:00:00+00',
            to_char((m + interval '1 month') AT TIME ZONE 'UTC', 'YYYY-MM-DD') || ' 00:00:00+00');
    END LOOP;

    INSERT INTO events SELECT * FROM events_unpartitioned;

    -- Indexes after the rows (one sorted build per partition, not row by
    -- row); the key first.
    ALTER TABLE events ADD CONSTRAINT events_pkey PRIMARY KEY (id, occurred_at);
    FOREACH def IN ARRAY defs LOOP
        EXECUTE def;
    END LOOP;

    FOR g IN SELECT grantee, privilege_type FROM information_schema.role_table_grants
            WHERE table_schema = current_schema() AND table_name = 'events_unpartitioned'
              AND grantee <> (SELECT tableowner FROM pg_tables
                              WHERE schemaname = current_schema() AND tablename = 'events_unpartitioned') LOOP
        EXECUTE format('GRANT %s ON events TO %s', g.privilege_type,
            CASE WHEN g.grantee = 'PUBLIC' THEN 'PUBLIC' ELSE quote_ident(g.grantee) END);
    END LOOP;

    DROP TABLE events_unpartitioned;
END
$$;

ANALYZE events;

---- create above / drop below ----

-- Back to one table: every partition's rows, the same indexes and grants.
DO $$
DECLARE
    seq  text := pg_get_serial_sequence('events', 'id');
    defs text[];
    def  text;
    g    record;
BEGIN
    SELECT coalesce(array_agg(replace(pg_get_indexdef(indexrelid), ' ON ONLY ', ' ON ') ORDER BY indexrelid), '{}') INTO defs
    FROM pg_index WHERE indrelid = 'events'::regclass AND NOT indisprimary;
    ALTER TABLE events RENAME TO events_partitioned;
    ALTER INDEX events_pkey RENAME TO events_partitioned_pkey;
    FOR def IN SELECT indexrelid::regclass::text FROM pg_index
            WHERE indrelid = 'events_partitioned'::regclass AND NOT indisprimary LOOP
        EXECUTE format('DROP INDEX %s', def);
    END LOOP;
    CREATE TABLE events (LIKE events_partitioned INCLUDING DEFAULTS INCLUDING CONSTRAINTS
        INCLUDING STORAGE INCLUDING COMMENTS INCLUDING STATISTICS);
    EXECUTE format('ALTER SEQUENCE %s OWNED BY events.id', seq);
    INSERT INTO events SELECT * FROM events_partitioned;
    ALTER TABLE events ADD CONSTRAINT events_pkey PRIMARY KEY (id);
    FOREACH def IN ARRAY defs LOOP
        EXECUTE def;
    END LOOP;
    FOR g IN SELECT grantee, privilege_type FROM information_schema.role_table_grants
            WHERE table_schema = current_schema() AND table_name = 'events_partitioned'
              AND grantee <> (SELECT tableowner FROM pg_tables
                              WHERE schemaname = current_schema() AND tablename = 'events_partitioned') LOOP
        EXECUTE format('GRANT %s ON events TO %s', g.privilege_type,
            CASE WHEN g.grantee = 'PUBLIC' THEN 'PUBLIC' ELSE quote_ident(g.grantee) END);
    END LOOP;
    DROP TABLE events_partitioned;
END
$$;
