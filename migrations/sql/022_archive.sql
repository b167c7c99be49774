-- Lifecycle (issue 18): an archived campaign, segment or template is
-- hidden from lists but keeps working and keeps its history (a finished
-- campaign's reports, the segment and templates a campaign still uses).
-- NULL: not archived.
ALTER TABLE campaigns ADD COLUMN archived_at timestamptz;
ALTER TABLE segments ADD COLUMN archived_at timestamptz;
ALTER TABLE templates ADD COLUMN archived_at timestamptz;

---- create above / drop below ----

ALTER TABLE campaigns DROP COLUMN archived_at;
ALTER TABLE segments DROP COLUMN archived_at;
ALTER TABLE templates DROP COLUMN archived_at;
