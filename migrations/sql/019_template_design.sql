-- The visual editor (issue 17) stores its design JSON beside the HTML so a
-- template reopens in the editor as it was built (NULL: written as code, or
-- never opened in the editor). transactional marks a template that
-- deliberately has no unsubscribe link (a receipt, a password reset): the
-- pre-send checks accept it without one.
ALTER TABLE templates
    ADD COLUMN design jsonb,
    ADD COLUMN transactional boolean NOT NULL DEFAULT false;

---- create above / drop below ----

ALTER TABLE templates DROP COLUMN design, DROP COLUMN transactional;
