-- The contacts package's statements for the admin dashboard.

-- name: count_contacts
-- Contacts held now: every status but erased (an erased contact's row
-- stays, emptied, so its deliveries keep their counts).
SELECT count(*) FROM contacts WHERE status <> 'erased';
