-- The people counters (016) recompute a (campaign, contact) pair from its
-- deliveries on every send, open and click. The unique index
-- (campaign_id, step, contact_id) cannot find them without the step, and
-- the contact index alone leaves the planner free to walk the whole
-- campaign instead (it did, with fresh statistics after a launch, and
-- sending slowed 2.5×): one index on both finds them directly.
DROP INDEX IF EXISTS deliveries_contact_idx;
CREATE INDEX deliveries_contact_campaign_idx ON deliveries (contact_id, campaign_id);
