package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tiershift/tiershift/program"
)

// Enrollment stages the store itself knows about. The workflow owns the rest.
const (
	StageEnrolled = "enrolled"
	StageDone     = "done"
)

// Enrollment is one partner in one campaign, as its workflow last reported.
type Enrollment struct {
	CampaignID    string
	PartnerID     string
	WorkflowID    string
	OldTier       string
	ExpectedTier  string
	CurrentTier   string
	Deadline      time.Time // zero until the workflow reports one
	Stage         string
	Outcome       string
	NewTier       string
	Missing       []program.Missing
	RemindersSent int
	EmailFailed   bool
	Seq           int64
	EnrolledAt    time.Time
	UpdatedAt     time.Time
}

const enrollmentColumns = `campaign_id, partner_id, workflow_id, old_tier, expected_tier, current_tier,
	deadline, stage, outcome, new_tier, missing, reminders_sent, email_failed, seq, enrolled_at, updated_at`

func scanEnrollment(row scanner) (Enrollment, error) {
	var e Enrollment
	var expected, current, outcome, newTier *string
	var deadline *time.Time
	var missing []byte
	err := row.Scan(&e.CampaignID, &e.PartnerID, &e.WorkflowID, &e.OldTier, &expected, &current,
		&deadline, &e.Stage, &outcome, &newTier, &missing, &e.RemindersSent, &e.EmailFailed, &e.Seq,
		&e.EnrolledAt, &e.UpdatedAt)
	if err != nil {
		return Enrollment{}, err
	}
	e.ExpectedTier, e.CurrentTier, e.Outcome, e.NewTier = deref(expected), deref(current), deref(outcome), deref(newTier)
	if deadline != nil {
		e.Deadline = *deadline
	}
	if len(missing) > 0 {
		if err := json.Unmarshal(missing, &e.Missing); err != nil {
			return Enrollment{}, fmt.Errorf("decode missing of %s/%s: %w", e.CampaignID, e.PartnerID, err)
		}
	}
	return e, nil
}

// collectEnrollment is scanEnrollment for pgx's row collectors.
func collectEnrollment(row pgx.CollectableRow) (Enrollment, error) { return scanEnrollment(row) }

// ListEnrollments returns up to limit enrollments of a campaign whose partner
// ID sorts after afterPartnerID, in partner ID order. Pass the last partner ID
// of a page to get the next one; an empty page is the end.
func (s *Store) ListEnrollments(ctx context.Context, campaignID, afterPartnerID string, limit int) ([]Enrollment, error) {
	if limit <= 0 {
		limit = 1000
	}
	rows, err := s.DB.Query(ctx, `SELECT `+enrollmentColumns+` FROM enrollments
		WHERE campaign_id = $1 AND partner_id > $2
		ORDER BY partner_id LIMIT $3`, campaignID, afterPartnerID, limit)
	if err != nil {
		return nil, fmt.Errorf("list enrollments of campaign %q after %q: %w", campaignID, afterPartnerID, err)
	}
	out, err := pgx.AppendRows(make([]Enrollment, 0, min(limit, 1024)), rows, collectEnrollment)
	if err != nil {
		return nil, fmt.Errorf("list enrollments of campaign %q after %q: %w", campaignID, afterPartnerID, err)
	}
	return out, nil
}

// GetEnrollment returns one enrollment, or ErrNotFound.
func (s *Store) GetEnrollment(ctx context.Context, campaignID, partnerID string) (Enrollment, error) {
	e, err := scanEnrollment(s.DB.QueryRow(ctx, `SELECT `+enrollmentColumns+` FROM enrollments
		WHERE campaign_id = $1 AND partner_id = $2`, campaignID, partnerID))
	if err != nil {
		return Enrollment{}, wrapNotFound(fmt.Sprintf("get enrollment of partner %q in campaign %q", partnerID, campaignID), err)
	}
	return e, nil
}

// StageUpdate is a workflow's state, mirrored into its enrollment row. It
// matches activities.StageUpdate field for field.
type StageUpdate struct {
	WorkflowID    string
	CampaignID    string
	PartnerID     string
	Stage         string
	OldTier       string
	ExpectedTier  string
	CurrentTier   string
	Deadline      time.Time
	Missing       []program.Missing
	RemindersSent int
	Outcome       string
	NewTier       string
	EmailFailed   bool
	// Seq orders one workflow's updates; an update with a lower Seq than the
	// stored one is stale and ignored. Equal Seq re-applies (a retry).
	Seq int64
}

// updateStage is RecordStage's usual case: the enrollment exists (the
// import wrote it) and this update is not stale. It changes the same
// columns as upsertStage, from the same parameters. An INSERT, even one
// that only updates, runs enrollments_check_refs (migration 004), whose
// look at pg_locks cost more than the update itself; an UPDATE does not.
const updateStage = `
UPDATE enrollments AS e SET
    workflow_id    = $3,
    old_tier       = CASE WHEN $4 = '' THEN e.old_tier ELSE $4 END,
    expected_tier  = $5,
    current_tier   = $6,
    deadline       = $7,
    stage          = $8,
    outcome        = $9,
    new_tier       = $10,
    missing        = $11::jsonb,
    reminders_sent = $12,
    email_failed   = $13,
    seq            = $14,
    updated_at     = now()
WHERE e.campaign_id = $1 AND e.partner_id = $2 AND e.seq <= $14`

// upsertStage is RecordStage's other cases: an enrollment to create, or a
// stale update to ignore.
const upsertStage = `
INSERT INTO enrollments AS e (campaign_id, partner_id, workflow_id, old_tier, expected_tier, current_tier,
                              deadline, stage, outcome, new_tier, missing, reminders_sent, email_failed, seq)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::jsonb, $12, $13, $14)
ON CONFLICT (campaign_id, partner_id) DO UPDATE SET
    workflow_id    = EXCLUDED.workflow_id,
    old_tier       = CASE WHEN EXCLUDED.old_tier = '' THEN e.old_tier ELSE EXCLUDED.old_tier END,
    expected_tier  = EXCLUDED.expected_tier,
    current_tier   = EXCLUDED.current_tier,
    deadline       = EXCLUDED.deadline,
    stage          = EXCLUDED.stage,
    outcome        = EXCLUDED.outcome,
    new_tier       = EXCLUDED.new_tier,
    missing        = EXCLUDED.missing,
    reminders_sent = EXCLUDED.reminders_sent,
    email_failed   = EXCLUDED.email_failed,
    seq            = EXCLUDED.seq,
    updated_at     = now()
WHERE e.seq <= EXCLUDED.seq`

// RecordStage writes a workflow's state into its enrollment row, creating
// the row if needed; a StageDone that leaves nothing to run in a running
// campaign completes it (CompleteCampaignIfDone). It is idempotent, and a
// stale update (lower Seq than the stored row, as when an old activity
// attempt runs late) is ignored: applied is false then.
func (s *Store) RecordStage(ctx context.Context, u StageUpdate) (applied bool, err error) {
	if u.CampaignID == "" || u.PartnerID == "" || u.Stage == "" {
		return false, fmt.Errorf("record stage: campaign ID, partner ID and stage are required (got %q, %q, %q): %w", u.CampaignID, u.PartnerID, u.Stage, ErrInvalidInput)
	}
	workflowID := u.WorkflowID
	if workflowID == "" {
		workflowID = WorkflowID(u.CampaignID, u.PartnerID)
	}
	missing := u.Missing
	if missing == nil {
		missing = []program.Missing{}
	}
	missingJSON, err := json.Marshal(missing)
	if err != nil {
		return false, fmt.Errorf("record stage %q of %s: encode missing: %w", u.Stage, workflowID, err)
	}
	var deadline *time.Time
	if !u.Deadline.IsZero() {
		deadline = &u.Deadline
	}
	args := []any{u.CampaignID, u.PartnerID, workflowID, u.OldTier,
		nullIfEmpty(u.ExpectedTier), nullIfEmpty(u.CurrentTier), deadline, u.Stage,
		nullIfEmpty(u.Outcome), nullIfEmpty(u.NewTier), missingJSON, u.RemindersSent, u.EmailFailed, u.Seq}
	tag, err := s.DB.Exec(ctx, updateStage, args...)
	if err == nil && tag.RowsAffected() == 0 {
		tag, err = s.DB.Exec(ctx, upsertStage, args...)
	}
	if err != nil {
		if pgCode(err) == pgForeignKeyViolation {
			err = errors.Join(ErrNotFound, err)
		}
		return false, fmt.Errorf("record stage %q of %s (seq %d): %w", u.Stage, workflowID, u.Seq, err)
	}
	// The end of a transition may be the campaign's last. Checked even for
	// a stale update: a retry after a failed check must still make it.
	if u.Stage == StageDone {
		if _, err := s.CompleteCampaignIfDone(ctx, u.CampaignID); err != nil {
			return false, fmt.Errorf("record stage %q of %s (seq %d): %w", u.Stage, workflowID, u.Seq, err)
		}
	}
	return tag.RowsAffected() > 0, nil
}
