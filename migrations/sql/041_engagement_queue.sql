-- Contact engagement off the click path (issue 22): the tracking writer no
-- longer updates contacts' opens, clicks, last_open_at and last_click_at in
-- each click's group commit. It writes its batch's deltas here, one row per
-- batch (arrays, one element per contact), in the same transaction as the
-- events; tracking's engagement follower takes rows with DELETE … RETURNING
-- (FOR UPDATE SKIP LOCKED, so several processes share the work) and adds
-- their merged deltas to contacts in that same transaction: every delta is
-- applied exactly once, across crashes and processes. The deltas are
-- commutative (sums and GREATEST), so order does not matter. No foreign
-- keys: a row lives for a fraction of a second, and an erased or deleted
-- contact's delta simply updates no row.
CREATE TABLE engagement_queue (
    id          bigserial PRIMARY KEY,
    contact_ids bigint[] NOT NULL,
    opens       int[] NOT NULL,
    clicks      int[] NOT NULL,
    last_open   timestamptz[] NOT NULL,
    last_click  timestamptz[] NOT NULL,
    queued_at   timestamptz NOT NULL DEFAULT now()
) WITH (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 1000);

---- create above / drop below ----

DROP TABLE engagement_queue;
