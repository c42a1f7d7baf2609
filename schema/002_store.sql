-- Store support.
--
-- enrollments.seq orders a workflow's stage updates, so that a late retry of
-- an old RecordStage activity never overwrites a newer stage.
ALTER TABLE enrollments ADD COLUMN seq bigint NOT NULL DEFAULT 0;

-- partner_fact_changes.change_id is the FactChange.ID an operator or a CRM
-- sync gave a change: the same change applied twice is recorded once.
ALTER TABLE partner_fact_changes ADD COLUMN change_id text;
CREATE UNIQUE INDEX partner_fact_changes_change_id ON partner_fact_changes (partner_id, change_id)
    WHERE change_id IS NOT NULL;

-- The import keeps a tier a transition has set; it looks tier changes up by partner.
CREATE INDEX tier_changes_partner ON tier_changes (partner_id);

---- create above / drop below ----

DROP INDEX tier_changes_partner;
DROP INDEX partner_fact_changes_change_id;
ALTER TABLE partner_fact_changes DROP COLUMN change_id;
ALTER TABLE enrollments DROP COLUMN seq;
