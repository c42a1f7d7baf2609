-- Enrollments' references to partners and campaigns, checked once per
-- statement instead of once per row.
--
-- A FOREIGN KEY runs one SPI query per inserted row (SELECT ... FOR KEY
-- SHARE): for an import enrolling 100,000 partners that was about 1 s of the
-- 2 s the INSERT took. These triggers keep the same guarantees, set-based:
--
--   * an INSERT is checked once per statement over its new rows (transition
--     table): every referenced partner and campaign is locked FOR KEY SHARE,
--     exactly the lock a foreign key takes, so it cannot be deleted (or its
--     key changed) before the inserting transaction ends; a missing one raises
--     SQLSTATE 23503 (foreign_key_violation), as the foreign key did;
--   * an UPDATE that changes an enrollment's campaign_id or partner_id is
--     checked the same way, per row (the code never changes them);
--   * deleting a partner or a campaign, or changing its key, while an
--     enrollment references it raises 23503 (ON DELETE/UPDATE RESTRICT).
--
-- Concurrency is what a foreign key gives: the inserter's lock makes a
-- concurrent DELETE wait, and the DELETE's check then sees the committed
-- enrollment; a DELETE that commits first leaves nothing to lock, so the
-- inserter's check (a fresh snapshot per statement) finds the key missing.
-- Not covered, unlike a foreign key: TRUNCATE ... CASCADE of partners or
-- campaigns does not empty enrollments (nothing in tiershift truncates).

ALTER TABLE enrollments DROP CONSTRAINT enrollments_partner_id_fkey;
ALTER TABLE enrollments DROP CONSTRAINT enrollments_campaign_id_fkey;

CREATE FUNCTION enrollments_check_refs() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    partner_keys  bigint;
    campaign_keys bigint;
    found_keys    bigint;
    missing       text;
BEGIN
    SELECT count(DISTINCT n.partner_id), count(DISTINCT n.campaign_id)
    INTO partner_keys, campaign_keys FROM enrollments_new n;
    IF partner_keys = 0 THEN
        RETURN NULL;
    END IF;

    -- Lock what is there; fewer locked rows than keys means one is missing
    -- (or was deleted meanwhile: the lock skips it).
    SELECT count(*) INTO found_keys FROM (
        SELECT 1 FROM partners p
        WHERE p.partner_id IN (SELECT n.partner_id FROM enrollments_new n)
        FOR KEY SHARE OF p) x;
    IF found_keys < partner_keys THEN
        SELECT n.partner_id INTO missing FROM enrollments_new n
        WHERE NOT EXISTS (SELECT 1 FROM partners p WHERE p.partner_id = n.partner_id)
        LIMIT 1;
        RAISE EXCEPTION 'insert or update on table "enrollments" violates foreign key constraint "enrollments_partner_id_fkey"'
            USING ERRCODE = 'foreign_key_violation', TABLE = 'enrollments', CONSTRAINT = 'enrollments_partner_id_fkey',
                  DETAIL = format('Key (partner_id)=(%s) is not present in table "partners".', missing);
    END IF;

    SELECT count(*) INTO found_keys FROM (
        SELECT 1 FROM campaigns c
        WHERE c.campaign_id IN (SELECT n.campaign_id FROM enrollments_new n)
        FOR KEY SHARE OF c) x;
    IF found_keys < campaign_keys THEN
        SELECT n.campaign_id INTO missing FROM enrollments_new n
        WHERE NOT EXISTS (SELECT 1 FROM campaigns c WHERE c.campaign_id = n.campaign_id)
        LIMIT 1;
        RAISE EXCEPTION 'insert or update on table "enrollments" violates foreign key constraint "enrollments_campaign_id_fkey"'
            USING ERRCODE = 'foreign_key_violation', TABLE = 'enrollments', CONSTRAINT = 'enrollments_campaign_id_fkey',
                  DETAIL = format('Key (campaign_id)=(%s) is not present in table "campaigns".', missing);
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER enrollments_check_refs AFTER INSERT ON enrollments
    REFERENCING NEW TABLE AS enrollments_new
    FOR EACH STATEMENT EXECUTE FUNCTION enrollments_check_refs();

CREATE FUNCTION enrollments_check_key_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM partners p WHERE p.partner_id = NEW.partner_id FOR KEY SHARE OF p;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'insert or update on table "enrollments" violates foreign key constraint "enrollments_partner_id_fkey"'
            USING ERRCODE = 'foreign_key_violation', TABLE = 'enrollments', CONSTRAINT = 'enrollments_partner_id_fkey',
                  DETAIL = format('Key (partner_id)=(%s) is not present in table "partners".', NEW.partner_id);
    END IF;
    PERFORM 1 FROM campaigns c WHERE c.campaign_id = NEW.campaign_id FOR KEY SHARE OF c;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'insert or update on table "enrollments" violates foreign key constraint "enrollments_campaign_id_fkey"'
            USING ERRCODE = 'foreign_key_violation', TABLE = 'enrollments', CONSTRAINT = 'enrollments_campaign_id_fkey',
                  DETAIL = format('Key (campaign_id)=(%s) is not present in table "campaigns".', NEW.campaign_id);
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER enrollments_check_key_change BEFORE UPDATE OF campaign_id, partner_id ON enrollments
    FOR EACH ROW
    WHEN (OLD.campaign_id IS DISTINCT FROM NEW.campaign_id OR OLD.partner_id IS DISTINCT FROM NEW.partner_id)
    EXECUTE FUNCTION enrollments_check_key_change();

CREATE FUNCTION partners_restrict_enrolled() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM enrollments e WHERE e.partner_id = OLD.partner_id) THEN
        RAISE EXCEPTION 'update or delete on table "partners" violates foreign key constraint "enrollments_partner_id_fkey" on table "enrollments"'
            USING ERRCODE = 'foreign_key_violation', TABLE = 'partners', CONSTRAINT = 'enrollments_partner_id_fkey',
                  DETAIL = format('Key (partner_id)=(%s) is still referenced from table "enrollments".', OLD.partner_id);
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER partners_restrict_enrolled_delete BEFORE DELETE ON partners
    FOR EACH ROW EXECUTE FUNCTION partners_restrict_enrolled();
CREATE TRIGGER partners_restrict_enrolled_update BEFORE UPDATE OF partner_id ON partners
    FOR EACH ROW WHEN (OLD.partner_id IS DISTINCT FROM NEW.partner_id)
    EXECUTE FUNCTION partners_restrict_enrolled();

CREATE FUNCTION campaigns_restrict_enrolled() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM enrollments e WHERE e.campaign_id = OLD.campaign_id) THEN
        RAISE EXCEPTION 'update or delete on table "campaigns" violates foreign key constraint "enrollments_campaign_id_fkey" on table "enrollments"'
            USING ERRCODE = 'foreign_key_violation', TABLE = 'campaigns', CONSTRAINT = 'enrollments_campaign_id_fkey',
                  DETAIL = format('Key (campaign_id)=(%s) is still referenced from table "enrollments".', OLD.campaign_id);
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER campaigns_restrict_enrolled_delete BEFORE DELETE ON campaigns
    FOR EACH ROW EXECUTE FUNCTION campaigns_restrict_enrolled();
CREATE TRIGGER campaigns_restrict_enrolled_update BEFORE UPDATE OF campaign_id ON campaigns
    FOR EACH ROW WHEN (OLD.campaign_id IS DISTINCT FROM NEW.campaign_id)
    EXECUTE FUNCTION campaigns_restrict_enrolled();

---- create above / drop below ----

DROP TRIGGER campaigns_restrict_enrolled_update ON campaigns;
DROP TRIGGER campaigns_restrict_enrolled_delete ON campaigns;
DROP FUNCTION campaigns_restrict_enrolled();
DROP TRIGGER partners_restrict_enrolled_update ON partners;
DROP TRIGGER partners_restrict_enrolled_delete ON partners;
DROP FUNCTION partners_restrict_enrolled();
DROP TRIGGER enrollments_check_key_change ON enrollments;
DROP FUNCTION enrollments_check_key_change();
DROP TRIGGER enrollments_check_refs ON enrollments;
DROP FUNCTION enrollments_check_refs();
ALTER TABLE enrollments ADD CONSTRAINT enrollments_partner_id_fkey
    FOREIGN KEY (partner_id) REFERENCES partners (partner_id);
ALTER TABLE enrollments ADD CONSTRAINT enrollments_campaign_id_fkey
    FOREIGN KEY (campaign_id) REFERENCES campaigns (campaign_id);
