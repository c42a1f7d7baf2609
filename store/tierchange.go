package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// TierChange is one change of a partner's tier. It matches
// activities.TierChange field for field.
type TierChange struct {
	WorkflowID string
	Step       string
	// Track is the track whose level changes ('' for a program without
	// tracks): part of the business key, one row per track decided.
	Track      string
	CampaignID string
	PartnerID  string
	FromTier   string
	ToTier     string
	Outcome    string
	Reason     string
	Actor      string
}

// ApplyTierChange records c in the append-only tier_changes audit and sets
// the partner's tier (and its enrollment's current and new tier); a change
// in a track sets the partner's level in that track instead
// (partners.tracks), leaving its headline tier and enrollment as they are.
// The audit's key (WorkflowID, Step, Track) makes it happen once: a second
// call with the same key changes nothing and returns applied=false. An
// unknown partner is ErrNotFound.
//
// It is one statement (applyTierSQL, applyTrackLevelSQL), so one round trip
// and one commit at every partner's deadline, and atomic without a
// transaction of its own: the audit's foreign key refuses an unknown
// partner, and that refusal undoes the whole statement.
func (s *Store) ApplyTierChange(ctx context.Context, c TierChange) (applied bool, err error) {
	if c.WorkflowID == "" || c.Step == "" || c.PartnerID == "" || c.ToTier == "" {
		return false, fmt.Errorf("apply tier change: workflow ID, step, partner ID and new tier are required (got %q, %q, %q, %q): %w",
			c.WorkflowID, c.Step, c.PartnerID, c.ToTier, ErrInvalidInput)
	}
	query := applyTierSQL
	if c.Track != "" {
		query = applyTrackLevelSQL
	}
	err = s.DB.QueryRow(ctx, query,
		c.WorkflowID, c.Step, c.Track, c.CampaignID, c.PartnerID, c.FromTier, c.ToTier, c.Outcome, c.Reason, c.Actor).Scan(&applied)
	if pgCode(err) == pgForeignKeyViolation {
		err = fmt.Errorf("partner %q: %w", c.PartnerID, ErrNotFound)
	}
	if err != nil {
		return false, fmt.Errorf("apply tier change %s/%s%s of partner %q (%s -> %s): %w",
			c.WorkflowID, c.Step, trackSuffix(c.Track), c.PartnerID, c.FromTier, c.ToTier, err)
	}
	return applied, nil
}

// trackSuffix names a track in messages: "" or " (track Resell)".
func trackSuffix(track string) string {
	if track == "" {
		return ""
	}
	return " (track " + track + ")"
}

// auditCTE inserts the change's audit row unless its key has one, and
// returns the partner of a row it inserted: the updates that follow it
// happen only then. Parameters: $1 workflow ID, $2 step, $3 track, $4
// campaign, $5 partner, $6 from, $7 to, $8 outcome, $9 reason, $10 actor.
const auditCTE = `
WITH audit AS (
    INSERT INTO tier_changes (workflow_id, step, track, campaign_id, partner_id, from_tier, to_tier, outcome, reason, actor)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
    ON CONFLICT (workflow_id, step, track) DO NOTHING
    RETURNING partner_id
)`

// applyTierSQL sets the partner's tier and its enrollment's current and new
// tier, once per audit row; it returns whether this call wrote them.
const applyTierSQL = auditCTE + `,
partner AS (
    UPDATE partners SET tier = $7, updated_at = now()
    WHERE partner_id IN (SELECT partner_id FROM audit)
), enrollment AS (
    UPDATE enrollments SET current_tier = $7, new_tier = $7, updated_at = now()
    WHERE campaign_id = $4 AND partner_id IN (SELECT partner_id FROM audit)
)
SELECT EXISTS (SELECT FROM audit)`

// applyTrackLevelSQL replaces the partner's level in track $3 by $7, once
// per audit row, keeping the list sorted by track (as the partner file's
// reader sorts it) and adding the track if the partner held no level in it.
const applyTrackLevelSQL = auditCTE + `,
partner AS (
    UPDATE partners SET updated_at = now(), tracks = (
        SELECT jsonb_agg(l ORDER BY l->>'track')
        FROM (
            SELECT e AS l FROM jsonb_array_elements(coalesce(tracks, '[]'::jsonb)) AS e WHERE e->>'track' <> $3
            UNION ALL
            SELECT jsonb_build_object('track', $3::text, 'tier', $7::text)
        ) x)
    WHERE partner_id IN (SELECT partner_id FROM audit)
)
SELECT EXISTS (SELECT FROM audit)`

// TierChangeRecord is one row of the tier_changes audit.
type TierChangeRecord struct {
	ID int64
	TierChange
	ChangedAt time.Time
}

// TierHistory returns a partner's tier changes, oldest first.
func (s *Store) TierHistory(ctx context.Context, partnerID string) ([]TierChangeRecord, error) {
	rows, err := s.DB.Query(ctx, `
		SELECT id, workflow_id, step, track, campaign_id, partner_id, from_tier, to_tier, outcome, reason, actor, changed_at
		FROM tier_changes WHERE partner_id = $1 ORDER BY changed_at, id`, partnerID)
	if err != nil {
		return nil, fmt.Errorf("tier history of partner %q: %w", partnerID, err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByName[TierChangeRecord])
	if err != nil {
		return nil, fmt.Errorf("tier history of partner %q: %w", partnerID, err)
	}
	return out, nil
}
