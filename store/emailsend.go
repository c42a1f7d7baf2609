package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// pgLockNotAvailable is SELECT … FOR UPDATE NOWAIT finding the row locked.
const pgLockNotAvailable = "55P03"

// ErrEmailLocked is ClaimEmail's answer when another attempt holds the
// message's row: it is sending it right now.
var ErrEmailLocked = errors.New("another attempt holds the email's row")

// OutgoingEmail is one message as SendEmail records it before sending, keyed by
// (WorkflowID, Step).
type OutgoingEmail struct {
	WorkflowID string
	Step       string
	CampaignID string
	PartnerID  string
	Kind       string
	Locale     string
	To         string
	Subject    string
	Text       string
	HTML       string
	TemplateID string // "" for none
	Status     string // pending, or failed with Error set
	Error      string
}

// InsertEmail records e unless its (WorkflowID, Step) already has a row.
// Claimed records the first attempt as under way (unconfirmed since now,
// one attempt): nobody else can hold a row that did not exist, so a first
// send needs no separate claim. It reports the row's ID and whether this
// call inserted it.
func (s *Store) InsertEmail(ctx context.Context, e OutgoingEmail, claimed bool) (id int64, inserted bool, err error) {
	err = s.DB.QueryRow(ctx, `
		INSERT INTO emails (workflow_id, step, campaign_id, partner_id, kind, locale, to_email,
		                    subject, body_text, body_html, template_id, status, error,
		                    unconfirmed_since, attempts)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13,
		        CASE WHEN $14 THEN statement_timestamp() END, CASE WHEN $14 THEN 1 ELSE 0 END)
		ON CONFLICT (workflow_id, step) DO NOTHING
		RETURNING id`,
		e.WorkflowID, e.Step, e.CampaignID, e.PartnerID, e.Kind, e.Locale, e.To,
		e.Subject, e.Text, e.HTML, nullIfEmpty(e.TemplateID), e.Status, nullIfEmpty(e.Error), claimed).Scan(&id)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return 0, false, nil
	case err != nil:
		return 0, false, fmt.Errorf("record email %s/%s: %w", e.WorkflowID, e.Step, err)
	}
	return id, true, nil
}

// EmailRow is a message's row as ClaimEmail found it.
type EmailRow struct {
	ID                int64
	Status            string
	ProviderMessageID string
	Error             string
	Attempts          int
	// UnconfirmedSince is set while an attempt may have reached the
	// provider without its answer being recorded.
	UnconfirmedSince *time.Time
	// Now is the database's clock when the row was read.
	Now time.Time
}

// EmailClaim is what ClaimEmail's decide function wants done with the row
// while it still holds the lock.
type EmailClaim struct {
	// SentAs, when set, marks the message sent with this provider message
	// ID (an earlier attempt's message was found at the provider).
	SentAs string
	// Attempt claims the row for a new attempt: unconfirmed from now on,
	// one more attempt counted.
	Attempt bool
}

// ClaimEmail locks the message's row without waiting (ErrEmailLocked when
// another attempt holds it), passes it to decide, applies decide's answer
// and commits. The lock is held while decide runs, so two attempts never
// both decide to resend. It returns the row as read, with Attempts counting
// a claimed attempt.
func (s *Store) ClaimEmail(ctx context.Context, workflowID, step string, decide func(EmailRow) (EmailClaim, error)) (EmailRow, error) {
	var row EmailRow
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var providerID, rowError *string
		err := tx.QueryRow(ctx, `
			SELECT id, status, provider_message_id, error, attempts, unconfirmed_since, statement_timestamp() FROM emails
			WHERE workflow_id = $1 AND step = $2
			FOR UPDATE NOWAIT`, workflowID, step).
			Scan(&row.ID, &row.Status, &providerID, &rowError, &row.Attempts, &row.UnconfirmedSince, &row.Now)
		if pgCode(err) == pgLockNotAvailable {
			return fmt.Errorf("read email %s/%s: %w", workflowID, step, ErrEmailLocked)
		}
		if err != nil {
			return wrapNotFound(fmt.Sprintf("read email %s/%s", workflowID, step), err)
		}
		row.ProviderMessageID, row.Error = deref(providerID), deref(rowError)
		c, err := decide(row)
		if err != nil {
			return err
		}
		switch {
		case c.SentAs != "":
			if _, err := tx.Exec(ctx, `
				UPDATE emails SET status = 'sent', provider_message_id = $2, error = NULL,
				       unconfirmed_since = NULL, sent_at = COALESCE(sent_at, unconfirmed_since)
				WHERE id = $1`, row.ID, c.SentAs); err != nil {
				return fmt.Errorf("mark email %s/%s sent as %s: %w", workflowID, step, c.SentAs, err)
			}
		case c.Attempt:
			if _, err := tx.Exec(ctx, `UPDATE emails SET unconfirmed_since = statement_timestamp(), attempts = attempts + 1 WHERE id = $1`, row.ID); err != nil {
				return fmt.Errorf("claim email %s/%s: %w", workflowID, step, err)
			}
			row.Attempts++
		}
		return nil
	})
	return row, err
}

// MarkEmailCaptured records a pending message as captured (capture mode:
// rendered and kept, not sent) with one more attempt.
func (s *Store) MarkEmailCaptured(ctx context.Context, id int64) error {
	if _, err := s.DB.Exec(ctx, `UPDATE emails SET status = 'captured', attempts = attempts + 1, sent_at = now(), error = NULL WHERE id = $1 AND status = 'pending'`, id); err != nil {
		return fmt.Errorf("mark email %d captured: %w", id, err)
	}
	return nil
}

// EmailOutcome is what one attempt learned from the provider.
type EmailOutcome struct {
	Status            string // pending (to retry), sent or failed
	ProviderMessageID string // "" keeps the stored one
	Error             string // "" clears it
	// Answered says the provider answered, so the attempt did not leave a
	// message of unknown fate: unconfirmed_since is cleared.
	Answered bool
}

// MarkEmail records an attempt's outcome on a pending message.
func (s *Store) MarkEmail(ctx context.Context, id int64, o EmailOutcome) error {
	_, err := s.DB.Exec(ctx, `
		UPDATE emails SET status = $2, provider_message_id = COALESCE($3, provider_message_id), error = $4,
		       sent_at = CASE WHEN $2 = 'sent' THEN now() ELSE sent_at END,
		       unconfirmed_since = CASE WHEN $5 THEN NULL ELSE unconfirmed_since END
		WHERE id = $1 AND status = 'pending'`, id, o.Status, nullIfEmpty(o.ProviderMessageID), nullIfEmpty(o.Error), o.Answered)
	if err != nil {
		return fmt.Errorf("mark email %d %s: %w", id, o.Status, err)
	}
	return nil
}
