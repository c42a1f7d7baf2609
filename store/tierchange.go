package store

import (
	"context"
	"errors"
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
// the partner's tier (and its enrollment's current and new tier), all in one
// transaction; a change in a track sets the partner's level in that track
// instead (partners.tracks), leaving its headline tier and enrollment as
// they are. The audit's key (WorkflowID, Step, Track) makes it happen once:
// a second call with the same key changes nothing and returns
// applied=false. An unknown partner is ErrNotFound.
func (s *Store) ApplyTierChange(ctx context.Context, c TierChange) (applied bool, err error) {
	if c.WorkflowID == "" || c.Step == "" || c.PartnerID == "" || c.ToTier == "" {
		return false, fmt.Errorf("apply tier change: workflow ID, step, partner ID and new tier are required (got %q, %q, %q, %q): %w",
			c.WorkflowID, c.Step, c.PartnerID, c.ToTier, ErrInvalidInput)
	}
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		var id int64
		err := tx.QueryRow(ctx, `
			INSERT INTO tier_changes (workflow_id, step, track, campaign_id, partner_id, from_tier, to_tier, outcome, reason, actor)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
			ON CONFLICT (workflow_id, step, track) DO NOTHING
			RETURNING id`,
			c.WorkflowID, c.Step, c.Track, c.CampaignID, c.PartnerID, c.FromTier, c.ToTier, c.Outcome, c.Reason, c.Actor).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil // applied by an earlier attempt
		}
		if err != nil {
			if pgCode(err) == pgForeignKeyViolation {
				return fmt.Errorf("partner %q: %w", c.PartnerID, ErrNotFound)
			}
			return fmt.Errorf("insert audit row: %w", err)
		}
		if c.Track != "" {
			err = setTrackLevel(ctx, tx, c)
		} else {
			err = setTier(ctx, tx, c)
		}
		applied = err == nil
		return err
	})
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

// setTier sets the partner's tier and its enrollment's current and new tier.
func setTier(ctx context.Context, tx pgx.Tx, c TierChange) error {
	tag, err := tx.Exec(ctx, `UPDATE partners SET tier = $2, updated_at = now() WHERE partner_id = $1`, c.PartnerID, c.ToTier)
	if err != nil {
		return fmt.Errorf("update partner tier: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("partner %q: %w", c.PartnerID, ErrNotFound)
	}
	if _, err := tx.Exec(ctx, `
		UPDATE enrollments SET current_tier = $3, new_tier = $3, updated_at = now()
		WHERE campaign_id = $1 AND partner_id = $2`, c.CampaignID, c.PartnerID, c.ToTier); err != nil {
		return fmt.Errorf("update enrollment tier: %w", err)
	}
	return nil
}

// setTrackLevelSQL replaces the partner's level in track $2 by $3, keeping
// the list sorted by track (as the partner file's reader sorts it) and
// adding the track if the partner held no level in it.
const setTrackLevelSQL = `
UPDATE partners SET updated_at = now(), tracks = (
    SELECT jsonb_agg(l ORDER BY l->>'track')
    FROM (
        SELECT e AS l FROM jsonb_array_elements(coalesce(tracks, '[]'::jsonb)) AS e WHERE e->>'track' <> $2
        UNION ALL
        SELECT jsonb_build_object('track', $2::text, 'tier', $3::text)
    ) x)
WHERE partner_id = $1`

// setTrackLevel sets the partner's level in the change's track.
func setTrackLevel(ctx context.Context, tx pgx.Tx, c TierChange) error {
	tag, err := tx.Exec(ctx, setTrackLevelSQL, c.PartnerID, c.Track, c.ToTier)
	if err != nil {
		return fmt.Errorf("update partner level in track %q: %w", c.Track, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("partner %q: %w", c.PartnerID, ErrNotFound)
	}
	return nil
}

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
