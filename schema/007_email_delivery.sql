-- Delivery feedback from SendGrid's Event Webhook. Every event is stored once
-- by its sg_event_id (SendGrid retries a batch until it gets a 2xx, so the
-- same event can arrive several times), matched to its email row through the
-- custom_args tiershift sets when sending (email_id; dedupe_key for messages
-- sent before email_id existed). emails.delivery_state is the latest state by
-- the event's own timestamp, not by arrival, since events arrive out of order.
CREATE TABLE email_events (
    sg_event_id  text PRIMARY KEY,
    email_id     bigint REFERENCES emails (id),
    event        text NOT NULL,
    occurred_at  timestamptz NOT NULL,
    reason       text,
    payload      jsonb NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX email_events_email ON email_events (email_id, occurred_at);

ALTER TABLE emails
    ADD COLUMN delivery_state text
        CHECK (delivery_state IN ('processed', 'deferred', 'delivered', 'bounce', 'dropped', 'spamreport')),
    ADD COLUMN delivery_at timestamptz,
    ADD COLUMN delivery_reason text;

-- Finding the partners who were never reached.
CREATE INDEX emails_undelivered ON emails (campaign_id, partner_id)
    WHERE delivery_state IN ('bounce', 'dropped');

COMMENT ON COLUMN emails.delivery_state IS
    'Latest SendGrid delivery event by its timestamp: processed, deferred, delivered, bounce, dropped or spamreport.';

---- create above / drop below ----

DROP INDEX emails_undelivered;
ALTER TABLE emails DROP COLUMN delivery_reason, DROP COLUMN delivery_at, DROP COLUMN delivery_state;
DROP TABLE email_events;
