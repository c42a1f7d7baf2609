-- Erasure of a partner's personal data (starter forget): the partner row
-- keeps its ID, tier and facts with the name and address blanked, and
-- erasures is the audit of every erasure that changed something, as
-- append-only as tier_changes.
ALTER TABLE partners ADD COLUMN erased_at timestamptz;

CREATE TABLE erasures (
    id            bigserial PRIMARY KEY,
    partner_id    text NOT NULL REFERENCES partners (partner_id),
    actor         text NOT NULL,
    reason        text NOT NULL,
    partners      integer NOT NULL,
    emails        integer NOT NULL,
    email_events  integer NOT NULL,
    fact_changes  integer NOT NULL,
    erased_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX erasures_partner ON erasures (partner_id, erased_at);

-- One rejecting function for any append-only table (it names the table).
CREATE FUNCTION append_only() RETURNS trigger LANGUAGE plpgsql
    AS $$ BEGIN RAISE EXCEPTION '% is append-only: % is not allowed', TG_TABLE_NAME, TG_OP; END; $$;
CREATE TRIGGER erasures_append_only BEFORE UPDATE OR DELETE ON erasures
    FOR EACH ROW EXECUTE FUNCTION append_only();

---- create above / drop below ----

DROP TABLE erasures;
DROP FUNCTION append_only();
ALTER TABLE partners DROP COLUMN erased_at;
