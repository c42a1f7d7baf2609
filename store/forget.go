package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Erasure is what ForgetPartner did to one partner's personal data.
type Erasure struct {
	PartnerID string
	// Partners, Emails and FactChanges count the rows this call blanked;
	// all zero when an earlier erasure already had (the call is idempotent).
	Partners, Emails, EmailEvents, FactChanges int64
	// ErasedAt is when the partner was first erased (zero if never).
	ErasedAt time.Time
	// Enrollments are the partner's transitions, what Temporal may still
	// hold a history of.
	Enrollments []EnrollmentRef
}

// EnrollmentRef names one transition: the partner, its campaign, its
// workflow and its stage.
type EnrollmentRef struct {
	CampaignID, PartnerID, WorkflowID, Stage string
}

// Changed reports whether the call blanked anything.
func (e Erasure) Changed() bool { return e.Partners+e.Emails+e.EmailEvents+e.FactChanges > 0 }

// ForgetPartner blanks a partner's personal data in one transaction: the
// name and address on its partner row, the recipient, subject and bodies
// of every email to it (the bodies greet the contact by name and quote the
// record) and SendGrid's delivery events about them, and the old and new values of its fact changes. It keeps what
// the audit needs: IDs, tiers, facts, stages, outcomes, tier changes,
// email kinds, statuses, provider IDs and dates, and which fact changed
// when. A call that blanked something appends one row to the erasures
// audit; a repeated call changes nothing and writes nothing. The partner
// row is locked for the transaction, so an import or a fact change that
// runs at the same time waits for it.
func (s *Store) ForgetPartner(ctx context.Context, partnerID, actor, reason string) (Erasure, error) {
	out := Erasure{PartnerID: partnerID}
	if partnerID == "" || actor == "" || reason == "" {
		return out, fmt.Errorf("forget partner: %w: partner ID, actor and reason are required", ErrInvalidInput)
	}
	err := pgx.BeginFunc(ctx, s.DB, func(tx pgx.Tx) error {
		var erasedAt *time.Time
		err := tx.QueryRow(ctx, `SELECT erased_at FROM partners WHERE partner_id = $1 FOR UPDATE`, partnerID).Scan(&erasedAt)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("partner %q: %w", partnerID, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("lock partner: %w", err)
		}
		tag, err := tx.Exec(ctx, `
			UPDATE partners SET name = '', email = '', erased_at = coalesce(erased_at, now()), updated_at = now()
			WHERE partner_id = $1 AND (name <> '' OR email <> '' OR erased_at IS NULL)`, partnerID)
		if err != nil {
			return fmt.Errorf("blank the partner row: %w", err)
		}
		out.Partners = tag.RowsAffected()
		if tag, err = tx.Exec(ctx, `
			UPDATE emails SET to_email = '', subject = '', body_text = '', body_html = '', delivery_reason = NULL
			WHERE partner_id = $1
			  AND (to_email <> '' OR subject <> '' OR body_text <> '' OR body_html <> '' OR delivery_reason IS NOT NULL)`, partnerID); err != nil {
			return fmt.Errorf("blank the emails: %w", err)
		}
		out.Emails = tag.RowsAffected()
		// SendGrid's delivery events quote the recipient (and bounce
		// reasons often do): the event, its time and its email stay.
		if tag, err = tx.Exec(ctx, `
			UPDATE email_events ev SET payload = '{}'::jsonb, reason = NULL
			FROM emails e
			WHERE ev.email_id = e.id AND e.partner_id = $1 AND (ev.payload <> '{}'::jsonb OR ev.reason IS NOT NULL)`, partnerID); err != nil {
			return fmt.Errorf("blank the delivery events: %w", err)
		}
		out.EmailEvents = tag.RowsAffected()
		if tag, err = tx.Exec(ctx, `
			UPDATE partner_fact_changes SET old_value = NULL, new_value = NULL
			WHERE partner_id = $1 AND (old_value IS NOT NULL OR new_value IS NOT NULL)`, partnerID); err != nil {
			return fmt.Errorf("blank the fact changes: %w", err)
		}
		out.FactChanges = tag.RowsAffected()
		if out.Changed() {
			if _, err := tx.Exec(ctx, `
				INSERT INTO erasures (partner_id, actor, reason, partners, emails, email_events, fact_changes)
				VALUES ($1, $2, $3, $4, $5, $6, $7)`, partnerID, actor, reason, out.Partners, out.Emails, out.EmailEvents, out.FactChanges); err != nil {
				return fmt.Errorf("write the erasure to the audit: %w", err)
			}
		}
		if err := tx.QueryRow(ctx, `SELECT erased_at FROM partners WHERE partner_id = $1`, partnerID).Scan(&out.ErasedAt); err != nil {
			return fmt.Errorf("read the erasure time: %w", err)
		}
		out.Enrollments, err = (&Store{DB: tx}).PartnerEnrollments(ctx, partnerID)
		return err
	})
	if err != nil {
		return out, fmt.Errorf("forget partner %q: %w", partnerID, err)
	}
	return out, nil
}

// PartnerEnrollments lists a partner's transitions (every campaign), for
// the checks an erasure makes before it runs.
func (s *Store) PartnerEnrollments(ctx context.Context, partnerID string) ([]EnrollmentRef, error) {
	return s.enrollmentsWhere(ctx, `partner_id = $1`, partnerID)
}

// CampaignEnrollments lists a campaign's transitions.
func (s *Store) CampaignEnrollments(ctx context.Context, campaignID string) ([]EnrollmentRef, error) {
	return s.enrollmentsWhere(ctx, `campaign_id = $1`, campaignID)
}

// enrollmentsWhere is the one query behind both listings; cond is one of
// the two constant conditions above, never input.
func (s *Store) enrollmentsWhere(ctx context.Context, cond, arg string) ([]EnrollmentRef, error) {
	rows, err := s.DB.Query(ctx, `SELECT campaign_id, workflow_id, stage, partner_id FROM enrollments WHERE `+cond+` ORDER BY campaign_id, partner_id`, arg)
	if err != nil {
		return nil, fmt.Errorf("list enrollments where %s (%q): %w", cond, arg, err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (EnrollmentRef, error) {
		var e EnrollmentRef
		return e, r.Scan(&e.CampaignID, &e.WorkflowID, &e.Stage, &e.PartnerID)
	})
}
