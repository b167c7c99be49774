-- The tracking package is the one writer of rollups, rollup_totals and
-- rollup_hours (tracking/rollups.go): every change adds its deltas to the
-- three tables in one statement, the first conversion of a delivery is
-- counted by the writer that stores it, and folding moves counts between
-- buckets of the same hour (changing neither totals nor hours). The
-- triggers of migrations 013 and 015, and the session settings that
-- switched them off, are gone.

DROP TRIGGER IF EXISTS rollups_totals_ins ON rollups;
DROP TRIGGER IF EXISTS rollups_totals_upd ON rollups;
DROP TRIGGER IF EXISTS rollups_totals_del ON rollups;
DROP TRIGGER IF EXISTS events_converted ON events;
DROP FUNCTION IF EXISTS rollups_apply();
DROP FUNCTION IF EXISTS events_converted();

---- create above / drop below ----

-- Back to 016: writers that rely on the triggers again, as migrations 013
-- and 015 left them.
CREATE OR REPLACE FUNCTION rollups_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('peykar.rollup_fold', true) = 'on'
            OR current_setting('peykar.rollup_totals_by_writer', true) = 'on' THEN
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
