-- River's GIN index on river_job.args indexes every key and value of every
-- job's arguments. A send job's (and a rule_timer job's) arguments carry
-- the ids of its deliveries, about 200 of them, so each such job added
-- ≈ 200 entries to the index when inserted and again at each of its state
-- changes (available → running → completed are not HOT updates: the
-- state is in River's fetch index, so every index gets a new entry). In
-- bench/send at 100,000 messages that was ≈ 300 of ≈ 1,540 WAL bytes per
-- message (pg_walinspect: Gin/INSERT and Gin/SPLIT on
-- river_job_args_index), and the pending list's merges ran inside River's
-- job completions.
--
-- Nothing looks these jobs up through the index: Peykar's one containment
-- query over their args (engine follow_ups_waiting) reads only jobs still
-- waiting (state scheduled or available: River's fetch index), and River
-- does not query args. So the index keeps every other kind and leaves
-- these two out. It keeps River's name, so River's reindexer (which
-- reindexes it by name) and any later River migration that drops it work
-- as before.
DROP INDEX IF EXISTS river_job_args_index;
CREATE INDEX river_job_args_index ON river_job USING GIN (args) WHERE kind NOT IN ('send', 'rule_timer');

---- create above / drop below ----

DROP INDEX IF EXISTS river_job_args_index;
CREATE INDEX river_job_args_index ON river_job USING GIN (args);
