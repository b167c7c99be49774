-- The tracking writer keeps rollup_totals and rollup_hours itself: it
-- knows each batch's net change per key, so it upserts them from Go in the
-- statements after its rollups upsert, and says so with the transaction
-- setting peykar.rollup_totals_by_writer = on (set and reset around those
-- statements). The triggers then skip that upsert: they ran twice per
-- batch (INSERT … ON CONFLICT fires the insert and the update trigger),
-- each planning two upserts over transition tables, which cost about as
-- much database CPU per click batch as all its event inserts. Every other
-- writer of rollups (the sending engine's AddCounts, conversions recorded
-- outside the writer's batches) still goes through the triggers.

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

---- create above / drop below ----

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
