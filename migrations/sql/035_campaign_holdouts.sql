-- Holdout groups (issue 21): a campaign's settings.holdout keeps a share of
-- its audience out of every send, so the campaign's incremental lift can be
-- measured against them. The share is chosen by a hash of the campaign and
-- contact ids (campaigns/holdout), and each member is recorded here when the
-- launch walk (or a triggered campaign's entry) meets them: a crash or a
-- restart never reassigns anyone, and the report counts the group.
CREATE TABLE campaign_holdouts (
    campaign_id bigint NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    contact_id  bigint NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    assigned_at timestamptz NOT NULL,
    PRIMARY KEY (campaign_id, contact_id)
);

---- create above / drop below ----

DROP TABLE campaign_holdouts;
