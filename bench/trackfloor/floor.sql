-- The writes every click needs, run inside PostgreSQL (PL/pgSQL: no round
-- trips, no parsing per call): a floor under what a click can cost the
-- database. The request path's only write is the event itself, straight
-- into events (cheaper than peykar's inbox row, its deletion and the
-- events insert); what the click derives is written once per batch of
-- clicks: the delivery's first click, the person's clicked flag and the
-- contact's clicks. Left out, so the floor stays below the real cost: the
-- inbox, row locks, classification reads, the click history, rollups,
-- rule jobs.

-- The campaign's sent deliveries with their people and contact counters,
-- as a send leaves them (not measured).
CREATE PROCEDURE floor_setup(camp bigint, first_contact bigint, n int) LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO deliveries (campaign_id, step, contact_id, status, sent_at)
  SELECT camp, 'main', g, 'sent', now() FROM generate_series(first_contact, first_contact + n - 1) g;
  INSERT INTO campaign_people (campaign_id, contact_id, sent, delivered)
  SELECT camp, g, true, true FROM generate_series(first_contact, first_contact + n - 1) g;
  INSERT INTO contact_stats AS s (contact_id, sent) SELECT g, 1 FROM generate_series(first_contact, first_contact + n - 1) g
  ON CONFLICT (contact_id) DO UPDATE SET sent = s.sent + 1;
  COMMIT;
END $$;

-- The request path: clicks committed batch at a time (one group commit),
-- click i on the campaign's delivery i mod deliveries.
CREATE PROCEDURE floor_clicks(camp bigint, clicks int, deliveries int, batch int) LANGUAGE plpgsql AS $$
DECLARE
  lo bigint;
BEGIN
  SELECT min(id) INTO lo FROM deliveries WHERE campaign_id = camp;
  FOR i IN 0 .. (clicks - 1) / batch LOOP
    INSERT INTO events (delivery_id, campaign_id, step, contact_id, type, link_idx, user_agent, ip)
    SELECT d.id, d.campaign_id, d.step, d.contact_id, 'click', 0,
      'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36', '203.0.113.7'
    FROM generate_series(i * batch, least(i * batch + batch, clicks) - 1) g
    JOIN deliveries d ON d.id = lo + g % deliveries;
    COMMIT;
  END LOOP;
END $$;

-- What the clicks derive, fold clicks per transaction: each clicked
-- delivery's first click, its person's clicked flag, its contact's clicks.
CREATE PROCEDURE floor_derive(camp bigint, clicks int, deliveries int, fold int) LANGUAGE plpgsql AS $$
DECLARE
  lo bigint; ds bigint[]; cs bigint[]; news bigint[];
BEGIN
  SELECT min(id) INTO lo FROM deliveries WHERE campaign_id = camp;
  FOR i IN 0 .. (clicks - 1) / fold LOOP
    ds := ARRAY(SELECT DISTINCT lo + g % deliveries FROM generate_series(i * fold, least(i * fold + fold, clicks) - 1) g ORDER BY 1);
    cs := ARRAY(SELECT d.contact_id FROM generate_series(i * fold, least(i * fold + fold, clicks) - 1) g
      JOIN deliveries d ON d.id = lo + g % deliveries ORDER BY 1);
    WITH u AS (UPDATE deliveries d SET first_click_at = now() WHERE d.id = ANY(ds) AND d.first_click_at IS NULL RETURNING d.contact_id)
    SELECT array_agg(contact_id ORDER BY contact_id) INTO news FROM u;
    UPDATE campaign_people p SET clicked = 2 WHERE p.campaign_id = camp AND p.contact_id = ANY(news) AND p.clicked < 2;
    INSERT INTO contact_stats AS s (contact_id, clicks, last_click_at)
    SELECT c, count(*), now() FROM unnest(cs) c GROUP BY c ORDER BY c
    ON CONFLICT (contact_id) DO UPDATE SET clicks = s.clicks + excluded.clicks, last_click_at = excluded.last_click_at;
    COMMIT;
  END LOOP;
END $$;
