-- A click or open that is a person's first (of a campaign) updates their
-- campaign_people row. The rows are written densely (a send outcome inserts
-- a campaign's people a batch at a time), so at the default fillfactor of
-- 100 every such update found its page full and moved the row to another
-- page, with a new entry in the primary key (measured: 3 WAL records and
-- ≈ 225 bytes per update, against 1 record and ≈ 71 bytes when the new
-- version fits on its page). At 80 a page keeps room for the next versions
-- of a fifth of its rows, and pruning reclaims the space of those that are
-- dead: the updates stay on their page (HOT), with no index entry. Applies
-- to pages written from now on.
ALTER TABLE campaign_people SET (fillfactor = 80);

---- create above / drop below ----

ALTER TABLE campaign_people RESET (fillfactor);
