-- Live processes (issues 22 and 23): every peykar process registers
-- itself under the id its River client works jobs with (river_job's
-- attempted_by) and heartbeats every few seconds. A process whose
-- heartbeat is stale has died (kill -9, lost machine): the running jobs
-- it last attempted are made available again within seconds, instead of
-- waiting for River's fixed RescueStuckJobsAfter, and the deliveries it
-- had claimed may be reclaimed at once. A process that stops cleanly sets
-- stopped_at.
CREATE TABLE processes (
    id           text PRIMARY KEY,
    mode         text NOT NULL,
    host         text NOT NULL DEFAULT '',
    pid          integer NOT NULL DEFAULT 0,
    started_at   timestamptz NOT NULL DEFAULT now(),
    heartbeat_at timestamptz NOT NULL DEFAULT now(),
    stopped_at   timestamptz
) WITH (fillfactor = 50);

---- create above / drop below ----

DROP TABLE processes;
