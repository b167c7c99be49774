-- A draft step may be saved before its template is chosen (issue 17): the
-- builder saves what the marketer has typed so far. Launch refuses a step
-- without a template, so a step that sends always has one (the engine's
-- send path never sees NULL).
ALTER TABLE campaign_steps ALTER COLUMN template_id DROP NOT NULL;

---- create above / drop below ----

DELETE FROM campaign_steps WHERE template_id IS NULL;
ALTER TABLE campaign_steps ALTER COLUMN template_id SET NOT NULL;
