-- Cheaper enrollments, so enrolling 100,000 partners writes one B-tree
-- per row instead of four (the import's largest cost: ~1.3 s of ~2.7 s).
--
--   * workflow_id is derived from the primary key (transition/<campaign>/<partner>)
--     and no query looks enrollments up by it: its UNIQUE index only cost writes.
--   * (campaign_id, stage): every query by stage also filters by campaign and
--     counts a whole campaign (status, report), which the primary key's
--     campaign_id prefix already serves.
--   * (campaign_id, deadline) serves "deadlines in the next N days"; rows not
--     yet launched have no deadline, so the index now leaves them out and an
--     import writes nothing to it.

ALTER TABLE enrollments DROP CONSTRAINT enrollments_workflow_id_key;
DROP INDEX enrollments_stage;
DROP INDEX enrollments_deadline;
CREATE INDEX enrollments_deadline ON enrollments (campaign_id, deadline) WHERE deadline IS NOT NULL;

-- The reference check of 003 locks every referenced partner FOR KEY SHARE,
-- which writes to every partners page an import enrolls, and counts
-- distinct keys by sorting (~0.4-0.7 s for 100,000 known partners). An
-- import already holds the whole partners table against deletes and key
-- changes (SHARE ROW EXCLUSIVE) until it commits, so under such a lock the
-- check only looks for a missing partner; without one it locks as before.
--
-- Locking and finding are two statements: the lock skips a row deleted
-- meanwhile, and the search that follows (a fresh snapshot, as every
-- statement under READ COMMITTED) no longer sees it, so it is reported
-- missing; a row that was locked cannot go away. That is what 003's
-- comparison of counts decided, without counting.
CREATE OR REPLACE FUNCTION enrollments_check_refs() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    missing text;
BEGIN
    IF NOT EXISTS (
        SELECT 1 FROM pg_locks l
        WHERE l.pid = pg_backend_pid() AND l.locktype = 'relation' AND l.granted
          AND l.relation = 'partners'::regclass
          AND l.database = (SELECT d.oid FROM pg_database d WHERE d.datname = current_database())
          AND l.mode IN ('ShareLock', 'ShareRowExclusiveLock', 'ExclusiveLock', 'AccessExclusiveLock'))
    THEN
        PERFORM 1 FROM partners p
        WHERE p.partner_id IN (SELECT n.partner_id FROM enrollments_new n)
        FOR KEY SHARE OF p;
    END IF;
    SELECT n.partner_id INTO missing FROM enrollments_new n
    WHERE NOT EXISTS (SELECT 1 FROM partners p WHERE p.partner_id = n.partner_id)
    LIMIT 1;
    IF missing IS NOT NULL THEN
        RAISE EXCEPTION 'insert or update on table "enrollments" violates foreign key constraint "enrollments_partner_id_fkey"'
            USING ERRCODE = 'foreign_key_violation', TABLE = 'enrollments', CONSTRAINT = 'enrollments_partner_id_fkey',
                  DETAIL = format('Key (partner_id)=(%s) is not present in table "partners".', missing);
    END IF;

    -- Campaigns are few: always locked, as a foreign key would.
    PERFORM 1 FROM campaigns c
    WHERE c.campaign_id IN (SELECT n.campaign_id FROM enrollments_new n)
    FOR KEY SHARE OF c;
    SELECT n.campaign_id INTO missing FROM enrollments_new n
    WHERE NOT EXISTS (SELECT 1 FROM campaigns c WHERE c.campaign_id = n.campaign_id)
    LIMIT 1;
    IF missing IS NOT NULL THEN
        RAISE EXCEPTION 'insert or update on table "enrollments" violates foreign key constraint "enrollments_campaign_id_fkey"'
            USING ERRCODE = 'foreign_key_violation', TABLE = 'enrollments', CONSTRAINT = 'enrollments_campaign_id_fkey',
                  DETAIL = format('Key (campaign_id)=(%s) is not present in table "campaigns".', missing);
    END IF;
    RETURN NULL;
END;
$$;

---- create above / drop below ----

-- enrollments_check_refs stays as 004 made it: it enforces exactly what
-- 003's did, under the old indexes too.
DROP INDEX enrollments_deadline;
CREATE INDEX enrollments_deadline ON enrollments (campaign_id, deadline);
CREATE INDEX enrollments_stage ON enrollments (campaign_id, stage);
ALTER TABLE enrollments ADD CONSTRAINT enrollments_workflow_id_key UNIQUE (workflow_id);
