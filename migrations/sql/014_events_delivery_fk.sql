-- Events lose their foreign key to deliveries. Checking it cost an index
-- lookup and a row lock per event inside the tracking writer's transaction
-- (the largest after-statement cost of a click batch), and it protected
-- nothing the writer does not already guarantee: the writer locks each
-- event's delivery (FOR NO KEY UPDATE) before it inserts the event, so the
-- delivery exists and cannot be deleted before the event commits. Deleting
-- deliveries (directly or by cascade from their campaign or contact) still
-- deletes their events, by the statement trigger below.

ALTER TABLE events DROP CONSTRAINT IF EXISTS events_delivery_id_fkey;

CREATE OR REPLACE FUNCTION deliveries_delete_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM events e USING deliveries_deleted d WHERE e.delivery_id = d.id;
    RETURN NULL;
END $$;

DROP TRIGGER IF EXISTS deliveries_delete_events ON deliveries;
CREATE TRIGGER deliveries_delete_events AFTER DELETE ON deliveries REFERENCING OLD TABLE AS deliveries_deleted
    FOR EACH STATEMENT EXECUTE FUNCTION deliveries_delete_events();

---- create above / drop below ----

DROP TRIGGER IF EXISTS deliveries_delete_events ON deliveries;
DROP FUNCTION IF EXISTS deliveries_delete_events();
DELETE FROM events e WHERE NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.id = e.delivery_id);
ALTER TABLE events ADD CONSTRAINT events_delivery_id_fkey FOREIGN KEY (delivery_id) REFERENCES deliveries (id) ON DELETE CASCADE;
