-- Reports read a bounded number of rows whatever a campaign's size: its
-- totals (a row per step, link, metric and human/machine, no time bucket)
-- and its hourly timeline (a row per drawn metric and hour), both kept
-- equal to the sums of the minute rollups by triggers on rollups, in the
-- statement that changes them, so every writer (tracking's batches, the
-- sending engine's AddCounts, folding) keeps them exact in its own
-- transaction. The converted recipients (distinct deliveries with a
-- conversion) become a rollup metric of their own, counted once per
-- delivery when its first conversion event is stored.

CREATE TABLE IF NOT EXISTS rollup_totals (
    campaign_id bigint NOT NULL,
    step        text NOT NULL,
    link_idx    integer NOT NULL,
    metric      text NOT NULL,
    machine     boolean NOT NULL,
    count       bigint NOT NULL DEFAULT 0,
    value       numeric(18, 4) NOT NULL DEFAULT 0,
    PRIMARY KEY (campaign_id, step, link_idx, metric, machine)
);

-- The timeline's metrics (human rows only, summed over steps and links).
CREATE TABLE IF NOT EXISTS rollup_hours (
    campaign_id bigint NOT NULL,
    metric      text NOT NULL,
    hour        timestamptz NOT NULL,
    count       bigint NOT NULL DEFAULT 0,
    value       numeric(18, 4) NOT NULL DEFAULT 0,
    PRIMARY KEY (campaign_id, hour, metric)
);

-- rollups_apply adds a statement's net change of rollups rows to the
-- totals and hours, in key order (concurrent writers lock the same rows in
-- the same order). Folding (campaigns.FoldRollups) moves counts between
-- buckets of the same hour, which changes neither, and says so with the
-- transaction setting peykar.rollup_fold = on.
CREATE OR REPLACE FUNCTION rollups_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('peykar.rollup_fold', true) = 'on' THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'INSERT' THEN
        WITH d AS (SELECT campaign_id, step, link_idx, metric, bucket, machine, count, value FROM rollups_new),
        t AS (
            INSERT INTO rollup_totals AS r (campaign_id, step, link_idx, metric, machine, count, value)
            SELECT campaign_id, step, link_idx, metric, machine, sum(count), sum(value) FROM d
            GROUP BY 1, 2, 3, 4, 5 HAVING sum(count) <> 0 OR sum(value) <> 0 ORDER BY 1, 2, 3, 4, 5
            ON CONFLICT (campaign_id, step, link_idx, metric, machine)
                DO UPDATE SET count = r.count + EXCLUDED.count, value = r.value + EXCLUDED.value
        )
        INSERT INTO rollup_hours AS r (campaign_id, metric, hour, count, value)
        SELECT campaign_id, metric, date_trunc('hour', bucket, 'UTC'), sum(count), sum(value) FROM d
        WHERE NOT machine AND metric IN ('sent', 'send_bounced', 'opens', 'clicks', 'conversions', 'revenue')
        GROUP BY 1, 2, 3 HAVING sum(count) <> 0 OR sum(value) <> 0 ORDER BY 1, 3, 2
        ON CONFLICT (campaign_id, hour, metric)
            DO UPDATE SET count = r.count + EXCLUDED.count, value = r.value + EXCLUDED.value;
    ELSIF TG_OP = 'UPDATE' THEN
        WITH d AS (
            SELECT campaign_id, step, link_idx, metric, bucket, machine, count, value FROM rollups_new
            UNION ALL SELECT campaign_id, step, link_idx, metric, bucket, machine, -count, -value FROM rollups_old
        ),
        t AS (
            INSERT INTO rollup_totals AS r (campaign_id, step, link_idx, metric, machine, count, value)
            SELECT campaign_id, step, link_idx, metric, machine, sum(count), sum(value) FROM d
            GROUP BY 1, 2, 3, 4, 5 HAVING sum(count) <> 0 OR sum(value) <> 0 ORDER BY 1, 2, 3, 4, 5
            ON CONFLICT (campaign_id, step, link_idx, metric, machine)
                DO UPDATE SET count = r.count + EXCLUDED.count, value = r.value + EXCLUDED.value
        )
        INSERT INTO rollup_hours AS r (campaign_id, metric, hour, count, value)
        SELECT campaign_id, metric, date_trunc('hour', bucket, 'UTC'), sum(count), sum(value) FROM d
        WHERE NOT machine AND metric IN ('sent', 'send_bounced', 'opens', 'clicks', 'conversions', 'revenue')
        GROUP BY 1, 2, 3 HAVING sum(count) <> 0 OR sum(value) <> 0 ORDER BY 1, 3, 2
        ON CONFLICT (campaign_id, hour, metric)
            DO UPDATE SET count = r.count + EXCLUDED.count, value = r.value + EXCLUDED.value;
    ELSE
        WITH d AS (SELECT campaign_id, step, link_idx, metric, bucket, machine, -count AS count, -value AS value FROM rollups_old),
        t AS (
            INSERT INTO rollup_totals AS r (campaign_id, step, link_idx, metric, machine, count, value)
            SELECT campaign_id, step, link_idx, metric, machine, sum(count), sum(value) FROM d
            GROUP BY 1, 2, 3, 4, 5 HAVING sum(count) <> 0 OR sum(value) <> 0 ORDER BY 1, 2, 3, 4, 5
            ON CONFLICT (campaign_id, step, link_idx, metric, machine)
                DO UPDATE SET count = r.count + EXCLUDED.count, value = r.value + EXCLUDED.value
        )
        INSERT INTO rollup_hours AS r (campaign_id, metric, hour, count, value)
        SELECT campaign_id, metric, date_trunc('hour', bucket, 'UTC'), sum(count), sum(value) FROM d
        WHERE NOT machine AND metric IN ('sent', 'send_bounced', 'opens', 'clicks', 'conversions', 'revenue')
        GROUP BY 1, 2, 3 HAVING sum(count) <> 0 OR sum(value) <> 0 ORDER BY 1, 3, 2
        ON CONFLICT (campaign_id, hour, metric)
            DO UPDATE SET count = r.count + EXCLUDED.count, value = r.value + EXCLUDED.value;
    END IF;
    RETURN NULL;
END
$$;

-- events_converted counts a delivery as converted when its first
-- conversion event (the lowest id) is stored. Tracking stores conversions
-- with the delivery row locked, so two transactions never both see
-- themselves first.
CREATE OR REPLACE FUNCTION events_converted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM events WHERE campaign_id = NEW.campaign_id AND step = NEW.step
            AND delivery_id = NEW.delivery_id AND type = 'conversion' AND id < NEW.id) THEN
        INSERT INTO rollups AS r (campaign_id, step, link_idx, metric, bucket, machine, count)
        VALUES (NEW.campaign_id, NEW.step, -1, 'converted', date_trunc('minute', NEW.occurred_at, 'UTC'), false, 1)
        ON CONFLICT (campaign_id, step, link_idx, metric, bucket, machine) DO UPDATE SET count = r.count + 1;
    END IF;
    RETURN NULL;
END
$$;

-- Existing data: converted recipients, then totals and hours from the rollups.
INSERT INTO rollups AS r (campaign_id, step, link_idx, metric, bucket, machine, count)
SELECT campaign_id, step, -1, 'converted', bucket, false, count(*) FROM (
    SELECT DISTINCT ON (campaign_id, step, delivery_id) campaign_id, step, date_trunc('minute', occurred_at, 'UTC') AS bucket
    FROM events WHERE type = 'conversion' ORDER BY campaign_id, step, delivery_id, id
) f
WHERE NOT EXISTS (SELECT 1 FROM rollups WHERE metric = 'converted')
GROUP BY 1, 2, 5
ON CONFLICT (campaign_id, step, link_idx, metric, bucket, machine) DO NOTHING;

INSERT INTO rollup_totals (campaign_id, step, link_idx, metric, machine, count, value)
SELECT campaign_id, step, link_idx, metric, machine, sum(count), sum(value) FROM rollups
GROUP BY 1, 2, 3, 4, 5
ON CONFLICT DO NOTHING;

INSERT INTO rollup_hours (campaign_id, metric, hour, count, value)
SELECT campaign_id, metric, date_trunc('hour', bucket, 'UTC'), sum(count), sum(value) FROM rollups
WHERE NOT machine AND metric IN ('sent', 'send_bounced', 'opens', 'clicks', 'conversions', 'revenue')
GROUP BY 1, 2, 3
ON CONFLICT DO NOTHING;

-- A trigger with transition tables serves one event each.
DROP TRIGGER IF EXISTS rollups_totals_ins ON rollups;
DROP TRIGGER IF EXISTS rollups_totals_upd ON rollups;
DROP TRIGGER IF EXISTS rollups_totals_del ON rollups;
CREATE TRIGGER rollups_totals_ins AFTER INSERT ON rollups REFERENCING NEW TABLE AS rollups_new
    FOR EACH STATEMENT EXECUTE FUNCTION rollups_apply();
CREATE TRIGGER rollups_totals_upd AFTER UPDATE ON rollups REFERENCING OLD TABLE AS rollups_old NEW TABLE AS rollups_new
    FOR EACH STATEMENT EXECUTE FUNCTION rollups_apply();
CREATE TRIGGER rollups_totals_del AFTER DELETE ON rollups REFERENCING OLD TABLE AS rollups_old
    FOR EACH STATEMENT EXECUTE FUNCTION rollups_apply();

DROP TRIGGER IF EXISTS events_converted ON events;
CREATE TRIGGER events_converted AFTER INSERT ON events
    FOR EACH ROW WHEN (NEW.type = 'conversion') EXECUTE FUNCTION events_converted();

---- create above / drop below ----

DROP TRIGGER IF EXISTS events_converted ON events;
DROP TRIGGER IF EXISTS rollups_totals_ins ON rollups;
DROP TRIGGER IF EXISTS rollups_totals_upd ON rollups;
DROP TRIGGER IF EXISTS rollups_totals_del ON rollups;
DROP FUNCTION IF EXISTS events_converted();
DROP FUNCTION IF EXISTS rollups_apply();
DELETE FROM rollups WHERE metric = 'converted';
DROP TABLE IF EXISTS rollup_hours, rollup_totals;
