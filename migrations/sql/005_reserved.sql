-- Number 5 was reserved for the templates package, which needed no schema of
-- its own. Migration numbers are never reused: a database that ran this
-- empty step would never run a later file with the same number.
SELECT 1;

---- create above / drop below ----

SELECT 1;
