-- A send whose outcome is unknown. SendGrid has no idempotency key, so the
-- mailer records when an attempt starts talking to it (committed before the
-- request) and clears the mark once SendGrid has answered. A retry that finds
-- the mark set knows an earlier attempt may have been accepted — the worker
-- died mid-request, or the answer never came — and looks the message up in
-- SendGrid's Email Activity by its dedupe key before sending it again.
ALTER TABLE emails ADD COLUMN unconfirmed_since timestamptz;

COMMENT ON COLUMN emails.unconfirmed_since IS
    'Set when an attempt starts sending and cleared when SendGrid answers; set on a pending row means SendGrid may already have accepted the message.';

---- create above / drop below ----

ALTER TABLE emails DROP COLUMN unconfirmed_since;
