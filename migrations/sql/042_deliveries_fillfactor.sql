-- Every send updates its delivery twice (the claim, then the outcome), a
-- page of deliveries at a time. At fillfactor 80 a page of rows of one
-- campaign, claimed together, leaves room for the new versions of only a
-- quarter of them, so the rest moved to other pages with a new entry in
-- each of the table's three indexes (measured: 73% of the updates HOT).
-- At 50 every row of a page has room for its next version, and the
-- outcome reuses the space of the claim's version once pruned: no index
-- entries per send, fewer WAL bytes. Applies to pages written from now on.
ALTER TABLE deliveries SET (fillfactor = 50);

---- create above / drop below ----

ALTER TABLE deliveries SET (fillfactor = 80);
