package workflows

import (
	"fmt"
	"slices"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// Custom search attributes kept current by every transition, so operators can
// filter a campaign in the Web UI, e.g.
//
//	CampaignId = "vmw-2009" AND OldTier = "Enterprise" AND MeetsExpected = false
//	AND Deadline < "2010-01-14T00:00:00Z"
var (
	CampaignIDKey    = temporal.NewSearchAttributeKeyKeyword("CampaignId")
	PartnerIDKey     = temporal.NewSearchAttributeKeyKeyword("PartnerId")
	OldTierKey       = temporal.NewSearchAttributeKeyKeyword("OldTier")
	ExpectedTierKey  = temporal.NewSearchAttributeKeyKeyword("ExpectedTier")
	CurrentTierKey   = temporal.NewSearchAttributeKeyKeyword("CurrentTier")
	StageKey         = temporal.NewSearchAttributeKeyKeyword("Stage")
	DeadlineKey      = temporal.NewSearchAttributeKeyTime("Deadline")
	OutcomeKey       = temporal.NewSearchAttributeKeyKeyword("Outcome")
	MeetsExpectedKey = temporal.NewSearchAttributeKeyBool("MeetsExpected")
	EmailFailedKey   = temporal.NewSearchAttributeKeyBool("EmailFailed")
	// EmailUndeliveredKey is true once SendGrid bounced or dropped the
	// partner's announcement, extension or outcome email: the partners who
	// were never reached. Unset until then.
	EmailUndeliveredKey = temporal.NewSearchAttributeKeyBool("EmailUndelivered")
	// TrackOutcomesKey lists, once a transition of a program with tracks is
	// decided, each track's outcome as "Track:outcome" ("Resell:demoted"),
	// so operators filter with TrackOutcomes = "Resell:demoted". Unset for
	// programs without tracks.
	TrackOutcomesKey = temporal.NewSearchAttributeKeyKeywordList("TrackOutcomes")
)

// SearchAttributes lists every custom search attribute with its type, for
// registration at worker start and for checking deploy/search-attributes.txt.
func SearchAttributes() map[string]enums.IndexedValueType {
	return map[string]enums.IndexedValueType{
		CampaignIDKey.GetName():       enums.INDEXED_VALUE_TYPE_KEYWORD,
		PartnerIDKey.GetName():        enums.INDEXED_VALUE_TYPE_KEYWORD,
		OldTierKey.GetName():          enums.INDEXED_VALUE_TYPE_KEYWORD,
		ExpectedTierKey.GetName():     enums.INDEXED_VALUE_TYPE_KEYWORD,
		CurrentTierKey.GetName():      enums.INDEXED_VALUE_TYPE_KEYWORD,
		StageKey.GetName():            enums.INDEXED_VALUE_TYPE_KEYWORD,
		DeadlineKey.GetName():         enums.INDEXED_VALUE_TYPE_DATETIME,
		OutcomeKey.GetName():          enums.INDEXED_VALUE_TYPE_KEYWORD,
		MeetsExpectedKey.GetName():    enums.INDEXED_VALUE_TYPE_BOOL,
		EmailFailedKey.GetName():      enums.INDEXED_VALUE_TYPE_BOOL,
		EmailUndeliveredKey.GetName(): enums.INDEXED_VALUE_TYPE_BOOL,
		TrackOutcomesKey.GetName():    enums.INDEXED_VALUE_TYPE_KEYWORD_LIST,
	}
}

// StartSearchAttributes are the attributes a transition starts with, set by
// the launcher so a workflow is findable before its first task runs.
func StartSearchAttributes(in TransitionInput, expectedTier string) temporal.SearchAttributes {
	return temporal.NewSearchAttributes(
		CampaignIDKey.ValueSet(in.CampaignID),
		PartnerIDKey.ValueSet(in.PartnerID),
		OldTierKey.ValueSet(in.OldTier),
		ExpectedTierKey.ValueSet(expectedTier),
		CurrentTierKey.ValueSet(in.OldTier),
		StageKey.ValueSet(string(StageWaitingLaunch)),
	)
}

// Visible is the part of the state mirrored into search attributes; the
// workflow upserts only what changed, so history stays small.
type Visible struct {
	ExpectedTier  string `json:"expected_tier"`
	CurrentTier   string `json:"current_tier"`
	Stage         Stage  `json:"stage"`
	Deadline      int64  `json:"deadline"`
	Outcome       string `json:"outcome,omitempty"`
	MeetsExpected bool   `json:"meets_expected"`
	EmailFailed   bool   `json:"email_failed"`
	// EmailUndelivered is omitted while false, so the state of runs shown
	// before it existed reads the same.
	EmailUndelivered bool `json:"email_undelivered,omitempty"`
	// TrackOutcomes is omitted while empty, like EmailUndelivered.
	TrackOutcomes []string `json:"track_outcomes,omitempty"`
}

func (v Visible) updates(prev *Visible, in TransitionInput) []temporal.SearchAttributeUpdate {
	var u []temporal.SearchAttributeUpdate
	if prev == nil {
		u = append(u, CampaignIDKey.ValueSet(in.CampaignID), PartnerIDKey.ValueSet(in.PartnerID), OldTierKey.ValueSet(in.OldTier))
		prev = &Visible{Deadline: -1, MeetsExpected: !v.MeetsExpected, EmailFailed: !v.EmailFailed}
	}
	if v.ExpectedTier != prev.ExpectedTier {
		u = append(u, ExpectedTierKey.ValueSet(v.ExpectedTier))
	}
	if v.CurrentTier != prev.CurrentTier {
		u = append(u, CurrentTierKey.ValueSet(v.CurrentTier))
	}
	if v.Stage != prev.Stage {
		u = append(u, StageKey.ValueSet(string(v.Stage)))
	}
	if v.Deadline != prev.Deadline {
		u = append(u, DeadlineKey.ValueSet(unixTime(v.Deadline)))
	}
	if v.Outcome != prev.Outcome && v.Outcome != "" {
		u = append(u, OutcomeKey.ValueSet(v.Outcome))
	}
	if v.MeetsExpected != prev.MeetsExpected {
		u = append(u, MeetsExpectedKey.ValueSet(v.MeetsExpected))
	}
	if v.EmailFailed != prev.EmailFailed {
		u = append(u, EmailFailedKey.ValueSet(v.EmailFailed))
	}
	if v.EmailUndelivered != prev.EmailUndelivered {
		u = append(u, EmailUndeliveredKey.ValueSet(v.EmailUndelivered))
	}
	if !slices.Equal(v.TrackOutcomes, prev.TrackOutcomes) {
		u = append(u, TrackOutcomesKey.ValueSet(v.TrackOutcomes))
	}
	return u
}

func unixTime(sec int64) time.Time { return time.Unix(sec, 0).UTC() }

// show keeps the search attributes and the Web UI's details current,
// upserting only what changed.
func (t *transition) show(ctx workflow.Context) error {
	v := Visible{
		ExpectedTier:     t.s.Evaluation.ExpectedTier,
		CurrentTier:      t.s.CurrentTier,
		Stage:            t.s.Stage,
		Deadline:         t.s.Deadline.Unix(),
		Outcome:          t.s.Outcome,
		MeetsExpected:    t.s.Evaluation.MeetsExpected,
		EmailFailed:      len(t.s.EmailFailures) > 0,
		EmailUndelivered: len(t.s.Undelivered) > 0,
		TrackOutcomes:    trackOutcomes(t.s.TrackResults),
	}
	workflow.SetCurrentDetails(ctx, t.details())
	if u := v.updates(t.s.Shown, t.in); len(u) > 0 {
		if err := workflow.UpsertTypedSearchAttributes(ctx, u...); err != nil {
			return fmt.Errorf("upsert search attributes: %w", err)
		}
	}
	t.s.Shown = &v
	return nil
}

// showIfVersioned upserts the search attributes where workflows recorded
// before changeShowNotified did not, keeping their histories replayable.
func (t *transition) showIfVersioned(ctx workflow.Context) {
	if showVersion(ctx) >= 1 {
		_ = t.show(ctx)
	}
}

// showDeciding shows that the deadline has come and the outcome is being
// applied. Runs from before showQuietDeciding upsert Stage=deciding, as
// their histories say. Later runs show it in the workflow's details and its
// status Query only: a search for the transitions being decided is
// ExecutionStatus = "Running" AND Deadline < now, and the upsert was one
// more visibility write per partner in the deadline wave, the dearest of
// its server work (BENCHMARKS.md, 2026-12-06 08:40).
func (t *transition) showDeciding(ctx workflow.Context) {
	if showVersion(ctx) < showQuietDeciding {
		_ = t.show(ctx)
		return
	}
	workflow.SetCurrentDetails(ctx, t.details())
}

// showVersion is the run's version of changeShowNotified: taken once, at
// the announcement for a new run, and the same at every call after.
func showVersion(ctx workflow.Context) workflow.Version {
	return workflow.GetVersion(ctx, changeShowNotified, workflow.DefaultVersion, showQuietDeciding)
}
