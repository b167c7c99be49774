-- The writes every recipient of a campaign needs, as peykar's send path
-- batches them, run inside PostgreSQL (PL/pgSQL, so no round trips, no
-- parsing per call): a floor under what sending can cost the database.
-- Left out, so the floor stays below the real cost: the claim, the contacts'
-- read for rendering, the sendability check, River's job rows, the send
-- outcome log and the step counters.

-- The launch: the campaign's deliveries, one insert per page of 2,000.
CREATE PROCEDURE floor_launch(camp bigint, first_contact bigint, n int) LANGUAGE plpgsql AS $$
BEGIN
  FOR i IN 0 .. (n - 1) / 2000 LOOP
    INSERT INTO deliveries (campaign_id, step, contact_id)
    SELECT camp, 'main', g FROM generate_series(first_contact + i * 2000, first_contact + least(i * 2000 + 1999, n - 1)) g
    ON CONFLICT (campaign_id, step, contact_id, round) DO NOTHING;
    COMMIT;
  END LOOP;
END $$;

-- The outcomes: one transaction per flush of flush messages, each the
-- deliveries' update to sent and the contacts' sent counters.
CREATE PROCEDURE floor_outcomes(camp bigint, n int, flush int) LANGUAGE plpgsql AS $$
DECLARE
  lo bigint; cs bigint[];
BEGIN
  SELECT min(id) INTO lo FROM deliveries WHERE campaign_id = camp;
  FOR i IN 0 .. (n - 1) / flush LOOP
    WITH u AS (
      UPDATE deliveries d SET status = 'sent', sent_at = now(), response = '250 2.0.0 Ok: queued as 4F1D2C3B', last_error = ''
      WHERE d.id BETWEEN lo + i * flush AND lo + least(i * flush + flush - 1, n - 1) AND d.status = 'queued'
      RETURNING d.contact_id)
    SELECT array_agg(contact_id ORDER BY contact_id) INTO cs FROM u;
    INSERT INTO contact_stats AS s (contact_id, sent) SELECT unnest(cs), 1
    ON CONFLICT (contact_id) DO UPDATE SET sent = s.sent + 1;
    COMMIT;
  END LOOP;
END $$;

-- The fold: the campaign's people created from their deliveries, batch
-- recipients per transaction.
CREATE PROCEDURE floor_people(camp bigint, n int, batch int) LANGUAGE plpgsql AS $$
DECLARE
  lo bigint; cs bigint[];
BEGIN
  SELECT min(id) INTO lo FROM deliveries WHERE campaign_id = camp;
  FOR i IN 0 .. (n - 1) / batch LOOP
    cs := ARRAY(SELECT contact_id FROM deliveries
      WHERE id BETWEEN lo + i * batch AND lo + least(i * batch + batch - 1, n - 1));
    INSERT INTO campaign_people (campaign_id, contact_id, sent, delivered, opened, clicked, unsubscribed, complained, converted)
    SELECT d.campaign_id, d.contact_id, bool_or(d.sent_at IS NOT NULL), bool_or(d.sent_at IS NOT NULL AND d.bounced_at IS NULL),
      0, 0, false, false, false
    FROM unnest(cs) AS u(p) JOIN deliveries d ON d.campaign_id = camp AND d.contact_id = u.p
    GROUP BY 1, 2 ORDER BY 1, 2
    ON CONFLICT (campaign_id, contact_id) DO NOTHING;
    COMMIT;
  END LOOP;
END $$;
