package activities

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/rs/zerolog"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/tiershift/tiershift/logging"
	"github.com/tiershift/tiershift/program"
	"github.com/tiershift/tiershift/store"
)

// Store holds the Postgres activities: reading a campaign's program and a
// partner's facts, mirroring a workflow's stage and applying tier changes.
// Each is idempotent.
type Store struct {
	DB  *store.Store
	Log zerolog.Logger
	// Metrics, when set, counts every tier change written.
	Metrics Recorder

	// programs caches LoadProgram's answers by campaign ID.
	programs sync.Map
}

// LoadProgram returns the program campaign was launched with, which
// `starter launch` stores before it starts any workflow. A launched
// campaign's program never changes (the store refuses another), so each
// worker reads it from Postgres once per campaign. A campaign that does not
// exist or has no stored program is a non-retryable NoProgram error.
func (a *Store) LoadProgram(ctx context.Context, ref CampaignRef) (*program.Program, error) {
	if p, ok := a.programs.Load(ref.CampaignID); ok {
		return p.(*program.Program), nil
	}
	log := a.logger(ctx, ref.CampaignID, "", "")
	c, err := a.DB.GetCampaign(ctx, ref.CampaignID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("campaign %q does not exist, so it has no program to run", ref.CampaignID), ErrTypeNoProgram, err)
	}
	if err != nil {
		log.Error().Err(err).Msg("load program failed")
		return nil, err
	}
	if c.Program == nil {
		return nil, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("campaign %q (state %s) has no stored program: `starter launch --campaign %s --program P.yaml` stores it before it starts any workflow",
				ref.CampaignID, c.State, ref.CampaignID), ErrTypeNoProgram, nil)
	}
	log.Debug().Str("program", c.Program.ID).Msg("program loaded")
	p, _ := a.programs.LoadOrStore(ref.CampaignID, c.Program)
	return p.(*program.Program), nil
}

// LoadPartner returns a partner's contact and facts as Postgres has them now.
// An unknown partner is a non-retryable UnknownPartner error; any other error
// is returned as is, for Temporal to retry.
func (a *Store) LoadPartner(ctx context.Context, ref PartnerRef) (PartnerSnapshot, error) {
	log := a.logger(ctx, ref.CampaignID, ref.PartnerID, "")
	p, err := a.DB.LoadPartner(ctx, ref.PartnerID)
	if errors.Is(err, store.ErrNotFound) {
		log.Warn().Msg("load partner: unknown partner")
		return PartnerSnapshot{}, temporal.NewNonRetryableApplicationError(
			"unknown partner "+ref.PartnerID, ErrTypeUnknownPartner, err)
	}
	if err != nil {
		log.Error().Err(err).Msg("load partner failed")
		return PartnerSnapshot{}, err
	}
	log.Debug().Str("tier", p.Tier).Msg("partner loaded")
	return PartnerSnapshot{
		PartnerID: p.PartnerID,
		Name:      p.Name,
		Email:     p.Email,
		Locale:    p.Locale,
		Country:   p.Country,
		Tier:      p.Tier,
		Facts:     p.Facts,
		TimeZone:  p.TimeZone,
	}, nil
}

// RecordStage mirrors a workflow's state into its enrollment row. A stale
// update (lower Seq than the stored row) is ignored, so an old attempt that
// runs late never moves the enrollment back.
func (a *Store) RecordStage(ctx context.Context, u StageUpdate) error {
	log := a.logger(ctx, u.CampaignID, u.PartnerID, u.WorkflowID)
	// The activity and store types have the same fields (only the JSON tags
	// differ), so the conversion is checked by the compiler.
	applied, err := a.DB.RecordStage(ctx, store.StageUpdate(u))
	if err != nil {
		log.Error().Err(err).Str("stage", u.Stage).Int64("seq", u.Seq).Msg("record stage failed")
		if errors.Is(err, store.ErrNotFound) {
			return temporal.NewNonRetryableApplicationError(
				"unknown partner or campaign "+u.PartnerID+" in "+u.CampaignID, ErrTypeUnknownPartner, err)
		}
		return classify(err)
	}
	ev := log.Debug()
	if !applied {
		ev = log.Info()
	}
	ev.Str("stage", u.Stage).Int64("seq", u.Seq).Bool("applied", applied).Msg("stage recorded")
	return nil
}

// ApplyTierChange changes a partner's tier and writes its audit row, once per
// (WorkflowID, Step): a retry finds the change done and reports Applied false.
func (a *Store) ApplyTierChange(ctx context.Context, c TierChange) (TierChangeResult, error) {
	log := a.logger(ctx, c.CampaignID, c.PartnerID, c.WorkflowID)
	applied, err := a.DB.ApplyTierChange(ctx, store.TierChange(c))
	if err != nil {
		log.Error().Err(err).Str("step", c.Step).Msg("apply tier change failed")
		if errors.Is(err, store.ErrNotFound) {
			return TierChangeResult{}, temporal.NewNonRetryableApplicationError(
				"unknown partner "+c.PartnerID, ErrTypeUnknownPartner, err)
		}
		return TierChangeResult{}, classify(err)
	}
	log.Info().Str("step", c.Step).Str("from_tier", c.FromTier).Str("to_tier", c.ToTier).
		Str("outcome", c.Outcome).Str("actor", c.Actor).Bool("applied", applied).Msg("tier change")
	if applied && a.Metrics != nil {
		// The program is cached per campaign; a worker that never loaded it
		// (it took the workflow over from another) reads it once.
		programID := ""
		if p, err := a.LoadProgram(ctx, CampaignRef{CampaignID: c.CampaignID}); err == nil {
			programID = p.ID
		}
		a.Metrics.Outcome(programID, c.ToTier, c.Outcome)
	}
	return TierChangeResult{Applied: applied}, nil
}

// Recorder is told what the activities did, for the worker's metrics
// (package metrics). Each call is made once per effect, not per retry.
type Recorder interface {
	// Outcome is one tier change written: the program, the tier the partner
	// now has and the outcome (promoted, kept, demoted, ...).
	Outcome(program, tier, outcome string)
	// Email is one email handled for the first time: its kind and status
	// (sent, captured, failed).
	Email(kind, status string)
}

// classify turns errors that no retry can fix into non-retryable ones.
func classify(err error) error {
	if errors.Is(err, store.ErrInvalidInput) {
		return temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeInvalidInput, err)
	}
	return err
}

// logger returns a.Log with the partner's fields and the workflow ID: the
// calling workflow's when running as an activity (tests call the methods
// with a plain context), else workflowID when given.
func (a *Store) logger(ctx context.Context, campaignID, partnerID, workflowID string) zerolog.Logger {
	lc := a.Log.With().Str(logging.CampaignID, campaignID).Str(logging.PartnerID, partnerID)
	if activity.IsActivity(ctx) {
		info := activity.GetInfo(ctx)
		lc = lc.Str(logging.WorkflowID, info.WorkflowExecution.ID).
			Str("activity", info.ActivityType.Name).Int32("attempt", info.Attempt)
	} else if workflowID != "" {
		lc = lc.Str(logging.WorkflowID, workflowID)
	}
	return lc.Logger()
}
