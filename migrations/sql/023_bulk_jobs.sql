-- Bulk actions on contacts (issue 18): a job tags, untags, suppresses,
-- erases or exports the contacts a filter, a rule or a list of ids selects.
-- The worker walks the selection in keyset batches; each batch's changes,
-- its export rows and the job's cursor and counts commit together, so a
-- job resumed after a crash starts after the last committed batch and
-- does each contact once.
CREATE TABLE bulk_jobs (
    id          bigserial PRIMARY KEY,
    action      text NOT NULL CHECK (action IN ('tag', 'untag', 'suppress', 'erase', 'export')),
    tag         text NOT NULL DEFAULT '',
    selector    jsonb NOT NULL,             -- {"filter":{"segment_id":3,"q":""}} | {"rule":"..."} | {"ids":[1,2]}
    status      text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'finished', 'failed')),
    total       bigint,                     -- NULL until the job has counted its selection
    done        bigint NOT NULL DEFAULT 0,
    failed      bigint NOT NULL DEFAULT 0,  -- selected contacts the action could not apply to (erased, unknown ids)
    cursor      bigint NOT NULL DEFAULT 0,  -- the last contact id of the last committed batch
    batches     integer NOT NULL DEFAULT 0,
    error       text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    started_at  timestamptz,
    finished_at timestamptz,
    expired_at  timestamptz                 -- an export's file was deleted then (it holds personal data)
);

-- An export job's CSV, one chunk per batch (seq 0 is the header row), so
-- the file is downloadable from any peykar process once the job is done;
-- deleted a day after (contacts.ExpireBulkExports).
CREATE TABLE bulk_export_chunks (
    job_id bigint NOT NULL REFERENCES bulk_jobs (id) ON DELETE CASCADE,
    seq    integer NOT NULL,
    data   bytea NOT NULL,
    PRIMARY KEY (job_id, seq)
);

---- create above / drop below ----

DROP TABLE bulk_export_chunks, bulk_jobs;
