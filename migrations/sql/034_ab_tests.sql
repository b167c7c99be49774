-- A/B(/n) tests (issue 21). A campaign's experiment definition (its
-- ab_test and the variants of its steps) is kept beside the campaign in
-- campaign_experiments; the run of a test in ab_tests; each contact of the
-- test group carries its variant on its delivery (deliveries.variant), and
-- the contacts held back for the winner are recorded in ab_remainder when
-- their launch page commits, so a crash or restart reassigns no one.
CREATE TABLE campaign_experiments (
    campaign_id bigint PRIMARY KEY REFERENCES campaigns (id) ON DELETE CASCADE,
    -- {"step","test_share","metric","duration","winner"}, or null
    ab_test     jsonb,
    -- step key → [{"key","template_id","subject","from_name"}]
    variants    jsonb NOT NULL DEFAULT '{}'
);

ALTER TABLE deliveries ADD COLUMN variant text NOT NULL DEFAULT '';

CREATE TABLE ab_tests (
    campaign_id      bigint PRIMARY KEY REFERENCES campaigns (id) ON DELETE CASCADE,
    step             text NOT NULL,
    started_at       timestamptz NOT NULL,
    -- when the test's duration ends (started_at + duration, engine clock)
    ends_at          timestamptz NOT NULL,
    winner           text NOT NULL DEFAULT '',
    chosen_at        timestamptz,
    -- auto (the engine, at ends_at) or manual (a marketer)
    chosen_by        text NOT NULL DEFAULT '',
    reason           text NOT NULL DEFAULT '',
    -- the remainder's send: the last contact id given a delivery, and done
    remainder_cursor bigint NOT NULL DEFAULT 0,
    remainder_done   boolean NOT NULL DEFAULT false,
    remainder_sent_at timestamptz
);
CREATE INDEX ab_tests_open_idx ON ab_tests (ends_at) WHERE winner = '';

CREATE TABLE ab_remainder (
    campaign_id bigint NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    contact_id  bigint NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    PRIMARY KEY (campaign_id, contact_id)
);

---- create above / drop below ----

DROP TABLE ab_remainder, ab_tests, campaign_experiments;
ALTER TABLE deliveries DROP COLUMN variant;
