-- Send jobs (River kind send_packed, engine.SendArgs) carry their delivery
-- ids packed in one string, args->>'ids', instead of an array in
-- args->'delivery_ids': River's GIN index over args then holds one entry
-- for them instead of one per id, rewritten at every state change of the
-- job (engine/send_ids.go). This reads a packing back, for the statements
-- that look into send jobs (deliveries' requeue_orphaned): comma-separated
-- signed decimal deltas from the previous id (the first from 0), a run of
-- equal deltas written once as delta*count. A string that is not such a
-- packing (only a hand-edited job could hold one) reads as NULL and one
-- whose sums leave bigint as no ids, so one bad job cannot fail a statement
-- over every dead job; counts have at most 9 digits, so none expands
-- without bound. Only adds: older processes enqueue kind send with
-- delivery_ids and never call it.
CREATE FUNCTION unpack_delivery_ids(packed text) RETURNS bigint[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT CASE WHEN packed !~ '^(-?[0-9]{1,19}(\*[1-9][0-9]{0,8})?(,-?[0-9]{1,19}(\*[1-9][0-9]{0,8})?)*)?$' THEN NULL
        ELSE coalesce((
            SELECT array_agg(v::bigint ORDER BY ord, g) FILTER (WHERE v BETWEEN -9223372036854775808 AND 9223372036854775807)
            FROM (
                SELECT t.ord, g.g, sum(split_part(t.tok, '*', 1)::numeric)
                    OVER (ORDER BY t.ord, g.g ROWS UNBOUNDED PRECEDING) AS v
                FROM unnest(string_to_array(packed, ',')) WITH ORDINALITY AS t(tok, ord)
                CROSS JOIN LATERAL generate_series(1, coalesce(nullif(split_part(t.tok, '*', 2), '')::int, 1)) AS g(g)
            ) s
            HAVING bool_and(v BETWEEN -9223372036854775808 AND 9223372036854775807)), '{}')
    END
$$;

---- create above / drop below ----

DROP FUNCTION unpack_delivery_ids(text);
