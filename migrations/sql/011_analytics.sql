-- Customer analytics (campaigns/analytics): per-contact scores recomputed
-- set-based by a periodic job, the clusters and response models they came
-- from, and anomaly flags on campaign metrics.

-- One row per scored contact. Contacts without a row read as rfm.segment ""
-- and every number 0.
CREATE TABLE contact_scores (
    contact_id          bigint PRIMARY KEY REFERENCES contacts (id) ON DELETE CASCADE,
    rfm_recency         smallint NOT NULL DEFAULT 0,   -- 1..5, 0: no purchase
    rfm_frequency       smallint NOT NULL DEFAULT 0,
    rfm_monetary        smallint NOT NULL DEFAULT 0,
    rfm_segment         text NOT NULL DEFAULT '',
    purchases           integer NOT NULL DEFAULT 0,    -- purchase/conversion transactions
    monetary            double precision NOT NULL DEFAULT 0,
    last_activity_at    timestamptz,                   -- last purchase, else last open/click/creation
    value               double precision NOT NULL DEFAULT 0,
    churn_risk          double precision NOT NULL DEFAULT 0,
    response_likelihood double precision NOT NULL DEFAULT 0,
    cluster_id          integer NOT NULL DEFAULT 0,    -- 0: not clustered
    computed_at         timestamptz NOT NULL DEFAULT now()
);
-- No secondary indexes: every recompute rewrites most rows' churn risk and
-- value, and with only the primary key (and room on each page) those
-- rewrites are HOT updates. The ranked reports are one top-N scan.
ALTER TABLE contact_scores SET (fillfactor = 70);

-- The k-means clusters of the last run.
CREATE TABLE clusters (
    id          integer PRIMARY KEY,
    description text NOT NULL,
    size        bigint NOT NULL DEFAULT 0,
    centroid    jsonb NOT NULL,                        -- feature means, raw units
    standard    jsonb NOT NULL,                        -- centroid in standardised units
    computed_at timestamptz NOT NULL DEFAULT now()
);

-- The response model per channel: the Beta prior and its honest evaluation.
CREATE TABLE response_models (
    channel     text PRIMARY KEY,
    alpha       double precision NOT NULL,
    beta        double precision NOT NULL,
    evaluation  jsonb NOT NULL DEFAULT '{}',
    trained_at  timestamptz NOT NULL DEFAULT now()
);

-- Campaign metrics far outside the history of earlier campaigns.
CREATE TABLE campaign_anomalies (
    campaign_id bigint NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    metric      text NOT NULL,
    value       double precision NOT NULL,
    mean        double precision NOT NULL,
    stddev      double precision NOT NULL,
    z           double precision NOT NULL,
    history     integer NOT NULL,
    computed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (campaign_id, metric)
);

---- create above / drop below ----

DROP TABLE campaign_anomalies, response_models, clusters, contact_scores;
