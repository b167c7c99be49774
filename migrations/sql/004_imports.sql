-- CSV imports of contacts: the uploaded file (in chunks, so an import job on
-- any peykar process can read it) and the job's progress and outcome.
CREATE TABLE imports (
    id             bigserial PRIMARY KEY,
    status         text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'finished', 'failed')),
    mode           text NOT NULL DEFAULT 'upsert' CHECK (mode IN ('upsert', 'skip-existing')),
    filename       text NOT NULL DEFAULT '',
    size           bigint NOT NULL DEFAULT 0,
    total          bigint NOT NULL DEFAULT 0,  -- data rows read
    inserted       bigint NOT NULL DEFAULT 0,
    updated        bigint NOT NULL DEFAULT 0,
    skipped        bigint NOT NULL DEFAULT 0,  -- existing and left unchanged
    merged         bigint NOT NULL DEFAULT 0,  -- duplicates of an earlier row of the file
    rejected_count bigint NOT NULL DEFAULT 0,
    rejected       jsonb NOT NULL DEFAULT '[]', -- the first 1000: [{"line":3,"reason":"..."}]
    duplicates     jsonb NOT NULL DEFAULT '[]', -- the first 1000: [{"line":9,"first_line":4}]
    error          text NOT NULL DEFAULT '',
    created_at     timestamptz NOT NULL DEFAULT now(),
    started_at     timestamptz,
    finished_at    timestamptz
);

-- The uploaded file, in order; deleted once the import has read it.
CREATE TABLE import_chunks (
    import_id bigint NOT NULL REFERENCES imports (id) ON DELETE CASCADE,
    seq       integer NOT NULL,
    data      bytea NOT NULL,
    PRIMARY KEY (import_id, seq)
);

---- create above / drop below ----

DROP TABLE import_chunks, imports;
