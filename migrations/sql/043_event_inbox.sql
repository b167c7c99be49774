-- Clicks and opens leave their request's group commit as one row here
-- (issue 22): the request path writes the event, verified against its
-- delivery, and answers once it is durable; tracking's follower takes the
-- waiting rows in large batches, writes them to events with everything
-- derived from them (the deliveries' firsts, unique counts, rollups,
-- campaign_people, contacts' engagement, rule jobs) and deletes them, all
-- in one transaction. So a row is in exactly one of event_inbox and
-- events, and events holds only events whose derived state is written:
-- the reports equal the raw rows once the inbox is empty.
--
-- The id is the event's id, taken from events' own sequence, so the id
-- an answer may name is the one the event keeps. The follower takes rows
-- by DELETE … RETURNING, not by an id watermark: a row that commits after
-- a higher id was folded is still taken by the next batch. No foreign key
-- to deliveries: the insert checks the delivery exists, and a key check
-- would lock the delivery row from every click's transaction; the
-- follower drops rows whose delivery is gone (its events would be deleted
-- with it anyway).
CREATE TABLE event_inbox (
    id          bigint PRIMARY KEY,
    delivery_id bigint NOT NULL,
    type        text NOT NULL,
    link_idx    int,
    -- a personalised click's signed destination ("" for static links)
    url         text NOT NULL DEFAULT '',
    -- the user-agent verdict taken at the request; the follower adds the
    -- timing rules (too soon, bursts, honeypots) as the writer does
    machine     boolean NOT NULL,
    reason      text NOT NULL DEFAULT '',
    user_agent  text NOT NULL DEFAULT '',
    ip          inet,
    occurred_at timestamptz NOT NULL
);

---- create above / drop below ----

-- Clicks and opens still waiting here were answered as recorded: dropping
-- them would lose them. Going back refuses until the follower has folded
-- them (a peykar of this version running: the inbox empties within
-- seconds, peykar_tracking_inbox_oldest_seconds shows 0).
DO $$
DECLARE
    waiting bigint;
BEGIN
    SELECT count(*) INTO waiting FROM event_inbox;
    IF waiting > 0 THEN
        RAISE EXCEPTION 'event_inbox holds % clicks and opens not yet folded into events', waiting
            USING HINT = 'run peykar at this version until the inbox is empty (peykar_tracking_inbox_oldest_seconds is 0), then migrate down';
    END IF;
END $$;
DROP TABLE event_inbox;
