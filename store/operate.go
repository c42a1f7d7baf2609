package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/tiershift/tiershift/ids"
	"github.com/tiershift/tiershift/program"
)

// Queries the operator's CLI (starter launch, status, report) needs beyond
// what the workflows' activities use.

// LaunchTarget is one enrollment to start a workflow for, with what the
// launcher shows in the workflow's summary.
type LaunchTarget struct {
	PartnerID string
	OldTier   string
	// Stage is the enrollment's stage: anything but StageEnrolled means its
	// workflow has already run and written it.
	Stage string
	// Tracks is the partner's level in each track (LaunchTargetsWithTracks
	// only).
	Tracks []program.TrackLevel
}

// LaunchTargets pages through a campaign's enrollments in partner ID order
// (keyset pagination: pass the last partner ID of the previous page).
func (s *Store) LaunchTargets(ctx context.Context, campaignID, afterPartnerID string, limit int) ([]LaunchTarget, error) {
	return s.launchTargets(ctx, `
		SELECT e.partner_id, e.old_tier, e.stage, NULL::jsonb AS tracks
		FROM enrollments e
		WHERE e.campaign_id = $1 AND e.partner_id > $2
		ORDER BY e.partner_id LIMIT $3`, campaignID, afterPartnerID, limit)
}

// LaunchTargetsWithTracks is LaunchTargets with each partner's levels in
// the tracks of a program with tracks (partners.tracks), which its
// transition decides one by one. Programs without tracks use
// LaunchTargets and skip the join.
func (s *Store) LaunchTargetsWithTracks(ctx context.Context, campaignID, afterPartnerID string, limit int) ([]LaunchTarget, error) {
	return s.launchTargets(ctx, `
		SELECT e.partner_id, e.old_tier, e.stage, p.tracks
		FROM enrollments e JOIN partners p ON p.partner_id = e.partner_id
		WHERE e.campaign_id = $1 AND e.partner_id > $2
		ORDER BY e.partner_id LIMIT $3`, campaignID, afterPartnerID, limit)
}

func (s *Store) launchTargets(ctx context.Context, query, campaignID, afterPartnerID string, limit int) ([]LaunchTarget, error) {
	if limit <= 0 {
		limit = 1000
	}
	rows, err := s.DB.Query(ctx, query, campaignID, afterPartnerID, limit)
	if err != nil {
		return nil, fmt.Errorf("list launch targets of campaign %q after %q: %w", campaignID, afterPartnerID, err)
	}
	out, err := pgx.AppendRows(make([]LaunchTarget, 0, min(limit, 1024)), rows, pgx.RowToStructByName[LaunchTarget])
	if err != nil {
		return nil, fmt.Errorf("list launch targets of campaign %q after %q: %w", campaignID, afterPartnerID, err)
	}
	return out, nil
}

// BadEnrolledID is a stored enrollment whose partner ID breaks the ID rule
// (stored before the rule, or by hand): its workflow ID could collide with
// another pair's, or Temporal could refuse it.
type BadEnrolledID struct {
	PartnerID string
	Err       error
}

// BadEnrolledIDs checks every partner ID enrolled in a campaign with
// ids.Partner and returns the first limit that break it, with how many do.
// The launcher refuses a campaign that has any, naming them, instead of
// starting workflows under IDs that could collide or never start.
func (s *Store) BadEnrolledIDs(ctx context.Context, campaignID string, limit int) ([]BadEnrolledID, int, error) {
	rows, err := s.DB.Query(ctx, `SELECT partner_id FROM enrollments WHERE campaign_id = $1 ORDER BY partner_id`, campaignID)
	if err != nil {
		return nil, 0, fmt.Errorf("check the partner IDs of campaign %q: %w", campaignID, err)
	}
	var bad []BadEnrolledID
	n := 0
	var id string
	_, err = pgx.ForEachRow(rows, []any{&id}, func() error {
		if err := ids.Partner(id); err != nil {
			n++
			if len(bad) < limit {
				bad = append(bad, BadEnrolledID{PartnerID: id, Err: err})
			}
		}
		return nil
	})
	if err != nil {
		return nil, 0, fmt.Errorf("check the partner IDs of campaign %q: %w", campaignID, err)
	}
	return bad, n, nil
}

// EnrolledTiers counts a campaign's enrollments by old tier.
func (s *Store) EnrolledTiers(ctx context.Context, campaignID string) (map[string]int64, error) {
	rows, err := s.DB.Query(ctx, `SELECT old_tier, count(*) FROM enrollments WHERE campaign_id = $1 GROUP BY 1`, campaignID)
	if err != nil {
		return nil, fmt.Errorf("count enrollments of campaign %q by tier: %w", campaignID, err)
	}
	out := map[string]int64{}
	var tier string
	var n int64
	if _, err := pgx.ForEachRow(rows, []any{&tier, &n}, func() error { out[tier] = n; return nil }); err != nil {
		return nil, fmt.Errorf("count enrollments of campaign %q by tier: %w", campaignID, err)
	}
	return out, nil
}

// FailedEmailPartner is a partner at least one of whose emails failed.
type FailedEmailPartner struct {
	PartnerID string
	Name      string
	Failed    int64
	Kinds     []string
	LastError string
}

// FailedEmailPartners lists, in partner ID order, the campaign's partners
// with failed emails (at most limit).
func (s *Store) FailedEmailPartners(ctx context.Context, campaignID string, limit int) ([]FailedEmailPartner, error) {
	if limit <= 0 {
		limit = 1000
	}
	rows, err := s.DB.Query(ctx, `
		SELECT m.partner_id, coalesce(p.name, '') AS name, count(*) AS failed,
		       array_agg(DISTINCT m.kind ORDER BY m.kind) AS kinds,
		       coalesce((array_agg(m.error ORDER BY m.created_at DESC, m.id DESC))[1], '') AS last_error
		FROM emails m LEFT JOIN partners p ON p.partner_id = m.partner_id
		WHERE m.campaign_id = $1 AND m.status = 'failed'
		GROUP BY m.partner_id, p.name
		ORDER BY m.partner_id LIMIT $2`, campaignID, limit)
	if err != nil {
		return nil, fmt.Errorf("partners with failed emails in campaign %q: %w", campaignID, err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByName[FailedEmailPartner])
	if err != nil {
		return nil, fmt.Errorf("partners with failed emails in campaign %q: %w", campaignID, err)
	}
	return out, nil
}
