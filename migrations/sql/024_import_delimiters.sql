-- An import's file delimiter and how its tags column separates tags, as
-- chosen on upload (issue 18): the job reads them with the file. The
-- defaults are what every import did before: commas between columns, tags
-- split on ";" or "|".
ALTER TABLE imports
    ADD COLUMN delimiter text NOT NULL DEFAULT 'comma' CHECK (delimiter IN ('comma', 'semicolon', 'tab')),
    ADD COLUMN tag_separator text NOT NULL DEFAULT 'semicolon' CHECK (tag_separator IN ('semicolon', 'comma', 'pipe', 'space'));

---- create above / drop below ----

ALTER TABLE imports DROP COLUMN delimiter, DROP COLUMN tag_separator;
