-- Number 12 was reserved for the contacts speed work, which needed no schema
-- change. Migration numbers are never reused: a database that ran this empty
-- step (migration 013 made it run) would never run a later file with the
-- same number.
SELECT 1;

---- create above / drop below ----

SELECT 1;
