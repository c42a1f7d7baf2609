-- The reference check of 004, looked up as sets instead of row by row.
--
-- 004 looked for a missing partner with `... WHERE NOT EXISTS (...) LIMIT 1`:
-- the LIMIT makes the planner expect to stop early and probe the partners'
-- primary key once per new enrollment, and the campaigns' once more — for
-- an import enrolling 100,000 partners ~160 ms and ~70 ms of heap fetches
-- (EXPLAIN ANALYZE), most of what the trigger cost (~200 ms). Here:
--
--   * the missing partner is the smallest one (min, not LIMIT 1), so the
--     planner sizes the anti-join by the rows inserted (it knows how many the
--     transition table holds): a hash anti-join for an import, an index probe
--     for the one row a workflow inserts;
--   * campaigns are looked up once per distinct campaign, not once per row;
--   * the error names the smallest missing key, the same one every time.
--
-- What is enforced, and how it locks, is 004's check unchanged.
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
    SELECT min(n.partner_id) INTO missing FROM enrollments_new n
    WHERE NOT EXISTS (SELECT 1 FROM partners p WHERE p.partner_id = n.partner_id);
    IF missing IS NOT NULL THEN
        RAISE EXCEPTION 'insert or update on table "enrollments" violates foreign key constraint "enrollments_partner_id_fkey"'
            USING ERRCODE = 'foreign_key_violation', TABLE = 'enrollments', CONSTRAINT = 'enrollments_partner_id_fkey',
                  DETAIL = format('Key (partner_id)=(%s) is not present in table "partners".', missing);
    END IF;

    -- Campaigns are few: always locked, as a foreign key would.
    PERFORM 1 FROM campaigns c
    WHERE c.campaign_id IN (SELECT DISTINCT n.campaign_id FROM enrollments_new n)
    FOR KEY SHARE OF c;
    SELECT min(k.campaign_id) INTO missing
    FROM (SELECT DISTINCT n.campaign_id FROM enrollments_new n) k
    WHERE NOT EXISTS (SELECT 1 FROM campaigns c WHERE c.campaign_id = k.campaign_id);
    IF missing IS NOT NULL THEN
        RAISE EXCEPTION 'insert or update on table "enrollments" violates foreign key constraint "enrollments_campaign_id_fkey"'
            USING ERRCODE = 'foreign_key_violation', TABLE = 'enrollments', CONSTRAINT = 'enrollments_campaign_id_fkey',
                  DETAIL = format('Key (campaign_id)=(%s) is not present in table "campaigns".', missing);
    END IF;
    RETURN NULL;
END;
$$;

---- create above / drop below ----

-- Back to 004's row-by-row lookups (same checks, same locks).
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
