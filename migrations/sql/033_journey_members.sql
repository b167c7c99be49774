-- Segment-entry journeys (issue 19): a campaign with entry type
-- segment_entry lets in the contacts who enter its segment after launch.
-- journey_members is the engine's record of who was in the segment when it
-- last looked, per campaign; a contact who matches and has no row entered
-- the segment, a row whose contact no longer matches left it. The first
-- look after launch records the members of the moment without letting them
-- in (journey_syncs.baseline_at): they were there at launch.
CREATE TABLE journey_members (
    campaign_id bigint NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    contact_id  bigint NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    -- when the engine first saw the contact in the segment
    since       timestamptz NOT NULL,
    -- the last full check that found the contact in it (segments evaluated
    -- in Go: members not seen by the latest walk have left)
    seen_at     timestamptz NOT NULL,
    PRIMARY KEY (campaign_id, contact_id)
);

-- A campaign's membership bookkeeping: when its baseline was taken and
-- when its segment was last compared with journey_members.
CREATE TABLE journey_syncs (
    campaign_id bigint PRIMARY KEY REFERENCES campaigns (id) ON DELETE CASCADE,
    baseline_at timestamptz NOT NULL,
    synced_at   timestamptz NOT NULL
);

---- create above / drop below ----

DROP TABLE journey_syncs, journey_members;
