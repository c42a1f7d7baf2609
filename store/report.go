package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// CampaignCounts is how a campaign's enrollments stand.
type CampaignCounts struct {
	Total int64
	// ByStage and ByOutcome count enrollments per stage and per outcome;
	// enrollments without an outcome yet count under "".
	ByStage     map[string]int64
	ByOutcome   map[string]int64
	EmailFailed int64
}

// CampaignCounts counts a campaign's enrollments by stage and by outcome.
func (s *Store) CampaignCounts(ctx context.Context, campaignID string) (CampaignCounts, error) {
	c := CampaignCounts{ByStage: map[string]int64{}, ByOutcome: map[string]int64{}}
	rows, err := s.DB.Query(ctx, `
		SELECT stage, coalesce(outcome, ''), email_failed, count(*)
		FROM enrollments WHERE campaign_id = $1
		GROUP BY 1, 2, 3`, campaignID)
	if err != nil {
		return c, fmt.Errorf("count enrollments of campaign %q: %w", campaignID, err)
	}
	var stage, outcome string
	var failed bool
	var n int64
	_, err = pgx.ForEachRow(rows, []any{&stage, &outcome, &failed, &n}, func() error {
		c.Total += n
		c.ByStage[stage] += n
		c.ByOutcome[outcome] += n
		if failed {
			c.EmailFailed += n
		}
		return nil
	})
	if err != nil {
		return c, fmt.Errorf("count enrollments of campaign %q: %w", campaignID, err)
	}
	return c, nil
}

// OutcomeCell counts the partners that went from one old tier to one new
// tier with one outcome. NewTier and Outcome are "" while undecided.
type OutcomeCell struct {
	OldTier string
	NewTier string
	Outcome string
	Count   int64
}

// OutcomeMatrix is old tier x new tier for one campaign.
type OutcomeMatrix struct {
	Cells []OutcomeCell
	// Totals per outcome ("promoted", "kept", "demoted", ...; "" undecided).
	ByOutcome map[string]int64
}

// OutcomeMatrix counts a campaign's enrollments by old tier, new tier and
// outcome, sorted by old tier then new tier.
func (s *Store) OutcomeMatrix(ctx context.Context, campaignID string) (OutcomeMatrix, error) {
	m := OutcomeMatrix{ByOutcome: map[string]int64{}}
	rows, err := s.DB.Query(ctx, `
		SELECT old_tier, coalesce(new_tier, '') AS new_tier, coalesce(outcome, '') AS outcome, count(*) AS count
		FROM enrollments WHERE campaign_id = $1
		GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`, campaignID)
	if err != nil {
		return m, fmt.Errorf("outcome matrix of campaign %q: %w", campaignID, err)
	}
	if m.Cells, err = pgx.CollectRows(rows, pgx.RowToStructByName[OutcomeCell]); err != nil {
		return m, fmt.Errorf("outcome matrix of campaign %q: %w", campaignID, err)
	}
	for _, c := range m.Cells {
		m.ByOutcome[c.Outcome] += c.Count
	}
	return m, nil
}

// EmailCount is how many emails of one kind are in one status.
type EmailCount struct {
	Kind   string
	Status string
	Count  int64
}

// EmailCounts counts a campaign's emails by kind and status.
func (s *Store) EmailCounts(ctx context.Context, campaignID string) ([]EmailCount, error) {
	rows, err := s.DB.Query(ctx, `
		SELECT kind, status, count(*) AS count FROM emails WHERE campaign_id = $1
		GROUP BY 1, 2 ORDER BY 1, 2`, campaignID)
	if err != nil {
		return nil, fmt.Errorf("count emails of campaign %q: %w", campaignID, err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByName[EmailCount])
	if err != nil {
		return nil, fmt.Errorf("count emails of campaign %q: %w", campaignID, err)
	}
	return out, nil
}

// DueSoon returns up to limit undecided enrollments of a campaign whose
// deadline falls between now and now+within, soonest first.
func (s *Store) DueSoon(ctx context.Context, campaignID string, within time.Duration, now time.Time, limit int) ([]Enrollment, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.DB.Query(ctx, `SELECT `+enrollmentColumns+` FROM enrollments
		WHERE campaign_id = $1 AND deadline >= $2 AND deadline < $3
		  AND outcome IS NULL AND stage <> 'done'
		ORDER BY deadline, partner_id LIMIT $4`, campaignID, now, now.Add(within), limit)
	if err != nil {
		return nil, fmt.Errorf("enrollments of campaign %q due within %s: %w", campaignID, within, err)
	}
	out, err := pgx.CollectRows(rows, collectEnrollment)
	if err != nil {
		return nil, fmt.Errorf("enrollments of campaign %q due within %s: %w", campaignID, within, err)
	}
	return out, nil
}

// TrackOutcomeCell is how many partners got one outcome in one track, from
// one old level to one new level.
type TrackOutcomeCell struct {
	Track   string
	OldTier string
	NewTier string
	Outcome string
	Count   int64
}

// TrackOutcomes counts a campaign's decided tracks (programs with tracks:
// one tier_changes row per track at the deadline, or at an exemption or
// withdrawal) by track, old level, new level and outcome, sorted that way.
// The enrollment row holds one headline outcome per partner; this is the
// breakdown operators ask for. Empty for a program without tracks.
func (s *Store) TrackOutcomes(ctx context.Context, campaignID string) ([]TrackOutcomeCell, error) {
	rows, err := s.DB.Query(ctx, `
		SELECT track, from_tier, to_tier, outcome, count(*)
		FROM tier_changes
		WHERE campaign_id = $1 AND track <> '' AND step IN ('outcome', 'exempted', 'withdrawn')
		GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4`, campaignID)
	if err != nil {
		return nil, fmt.Errorf("track outcomes of campaign %q: %w", campaignID, err)
	}
	cells, err := pgx.CollectRows(rows, pgx.RowToStructByPos[TrackOutcomeCell])
	if err != nil {
		return nil, fmt.Errorf("track outcomes of campaign %q: %w", campaignID, err)
	}
	return cells, nil
}
