-- tiershift's system of record. Workflows own the timeline; these tables own
-- the facts, the decisions and every message the engine decided to send.

-- Partners and their contacts. `tier` is the tier the partner holds now: its
-- old-program tier until a transition changes it.
CREATE TABLE partners (
    partner_id       text PRIMARY KEY CHECK (partner_id <> ''),
    name             text NOT NULL,
    email            text NOT NULL,
    locale           text NOT NULL,
    country          text NOT NULL DEFAULT '',
    tier             text NOT NULL,
    certifications   jsonb NOT NULL DEFAULT '{}'::jsonb,
    competencies     text[] NOT NULL DEFAULT '{}',
    modules          text[] NOT NULL DEFAULT '{}',
    revenue_cents    bigint NOT NULL DEFAULT 0 CHECK (revenue_cents >= 0),
    points           integer NOT NULL DEFAULT 0 CHECK (points >= 0),
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    facts_changed_at timestamptz NOT NULL DEFAULT now()
);

-- One row per changed fact, so "when did this partner earn its VTSP" has an answer.
CREATE TABLE partner_fact_changes (
    id          bigserial PRIMARY KEY,
    partner_id  text NOT NULL REFERENCES partners (partner_id),
    field       text NOT NULL,
    old_value   jsonb,
    new_value   jsonb,
    source      text NOT NULL,
    changed_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX partner_fact_changes_partner ON partner_fact_changes (partner_id, changed_at);

-- A campaign is one run of one program. `program_file` is the file exactly as
-- loaded; `program` is its validated form, the one the workflows received.
CREATE TABLE campaigns (
    campaign_id   text PRIMARY KEY CHECK (campaign_id <> ''),
    program_id    text,
    program_file  text,
    program       jsonb,
    launch_at     timestamptz,
    state         text NOT NULL DEFAULT 'draft'
                  CHECK (state IN ('draft', 'launching', 'running', 'completed')),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

-- One row per campaign x partner, kept current by the partner's workflow.
CREATE TABLE enrollments (
    campaign_id     text NOT NULL REFERENCES campaigns (campaign_id),
    partner_id      text NOT NULL REFERENCES partners (partner_id),
    workflow_id     text NOT NULL UNIQUE,
    old_tier        text NOT NULL,
    expected_tier   text,
    current_tier    text,
    deadline        timestamptz,
    stage           text NOT NULL DEFAULT 'enrolled',
    outcome         text,
    new_tier        text,
    missing         jsonb NOT NULL DEFAULT '[]'::jsonb,
    reminders_sent  integer NOT NULL DEFAULT 0,
    email_failed    boolean NOT NULL DEFAULT false,
    enrolled_at     timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (campaign_id, partner_id)
);
CREATE INDEX enrollments_stage ON enrollments (campaign_id, stage);
CREATE INDEX enrollments_deadline ON enrollments (campaign_id, deadline);

-- Append-only audit of every tier change: who or what, when, why, from which
-- workflow. The business key (workflow_id, step) makes a retried activity a no-op.
CREATE TABLE tier_changes (
    id           bigserial PRIMARY KEY,
    workflow_id  text NOT NULL,
    step         text NOT NULL,
    campaign_id  text NOT NULL,
    partner_id   text NOT NULL REFERENCES partners (partner_id),
    from_tier    text NOT NULL,
    to_tier      text NOT NULL,
    outcome      text NOT NULL,
    reason       text NOT NULL,
    actor        text NOT NULL,
    changed_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (workflow_id, step)
);
CREATE INDEX tier_changes_campaign ON tier_changes (campaign_id, partner_id);

CREATE FUNCTION tier_changes_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'tier_changes is append-only: % is not allowed', TG_OP;
END;
$$;
CREATE TRIGGER tier_changes_append_only BEFORE UPDATE OR DELETE ON tier_changes
    FOR EACH ROW EXECUTE FUNCTION tier_changes_append_only();

-- One row per message the engine decided to send. The row is written before
-- the send and marked after; (workflow_id, step) is the dedupe key.
CREATE TABLE emails (
    id                   bigserial PRIMARY KEY,
    workflow_id          text NOT NULL,
    step                 text NOT NULL,
    campaign_id          text NOT NULL,
    partner_id           text NOT NULL,
    kind                 text NOT NULL,
    locale               text NOT NULL,
    to_email             text NOT NULL,
    subject              text NOT NULL,
    body_text            text NOT NULL,
    body_html            text NOT NULL,
    template_id          text,
    status               text NOT NULL DEFAULT 'pending'
                         CHECK (status IN ('pending', 'sent', 'captured', 'failed')),
    provider_message_id  text,
    error                text,
    attempts             integer NOT NULL DEFAULT 0,
    created_at           timestamptz NOT NULL DEFAULT now(),
    sent_at              timestamptz,
    UNIQUE (workflow_id, step)
);
CREATE INDEX emails_campaign ON emails (campaign_id, status);

---- create above / drop below ----

DROP TABLE emails;
DROP TABLE tier_changes;
DROP FUNCTION tier_changes_append_only();
DROP TABLE enrollments;
DROP TABLE campaigns;
DROP TABLE partner_fact_changes;
DROP TABLE partners;
