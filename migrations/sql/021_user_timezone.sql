-- Each user's time zone (an IANA name such as Asia/Tehran): the admin UI
-- shows times and takes schedules on that clock, and stores UTC. NULL: not
-- chosen yet (the pages use UTC and offer the browser's zone).
ALTER TABLE users ADD COLUMN timezone text;

---- create above / drop below ----

ALTER TABLE users DROP COLUMN timezone;
