package workflows

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/tiershift/tiershift/email"
	"github.com/tiershift/tiershift/program"
	"github.com/tiershift/tiershift/zones"
)

// A program with tracks (Red Hat's modules) gives a partner a level in each
// track it takes part in. One transition still carries the partner: it
// evaluates every track with program.EvaluateTracks (the function `starter
// plan` uses, so plan and run agree), reminds while any track misses
// something, and at the deadline writes one tier change per track and
// sends one outcome email naming each track. A program without tracks
// never reaches this file: its runs are exactly as before.

// startTracks is start for a program with tracks, behind changeTracks: the
// partner's deadline is the latest of its tracks', and its levels are the
// ones the launcher read from Postgres (TransitionInput.TrackLevels).
func (t *transition) startTracks(ctx workflow.Context, prog *program.Program) error {
	if workflow.GetVersion(ctx, changeTracks, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return invalidInput(fmt.Errorf("program %s has tracks, which this run's history predates", prog.ID))
	}
	if err := t.in.checkProgram(prog); err != nil {
		return invalidInput(err)
	}
	tps := prog.TrackPrograms()
	t.prog, t.tracks = prog, tps
	if t.in.State != nil {
		carried := *t.in.State
		carried.Runs++
		t.s = &carried
		return nil
	}
	deadline, err := program.LatestDeadline(tps, t.in.TrackLevels, func(p *program.Program, oldTier string) (time.Time, error) {
		return p.Deadline(oldTier, t.in.LaunchAt)
	})
	if err != nil {
		return invalidInput(err)
	}
	zone := ""
	if workflow.GetVersion(ctx, changeTimeZones, workflow.DefaultVersion, 1) == 1 {
		zone = cmp.Or(prog.TimeZone, zones.UTC)
		deadline = inZone(ctx, zone, deadline, func(loc *time.Location) time.Time {
			dl, err := program.LatestDeadline(tps, t.in.TrackLevels, func(p *program.Program, oldTier string) (time.Time, error) {
				return p.DeadlineIn(oldTier, t.in.LaunchAt, loc)
			})
			if err != nil {
				return deadline // the same error was returned above
			}
			return dl
		})
	}
	t.s = &State{
		TimeZone: zone,
		Stage:    StageWaitingLaunch, Deadline: deadline, CurrentTier: t.in.OldTier,
		Evaluation: program.Evaluation{OldTier: t.in.OldTier, ExpectedTier: program.ExpectedLevels(tps, t.in.TrackLevels)},
		TrackTiers: slices.Clone(t.in.TrackLevels),
	}
	return nil
}

// checkTrackLevels rejects a partner of a program with tracks that holds no
// level in any of them, or a level the program does not know.
func (in TransitionInput) checkTrackLevels(p *program.Program) error {
	if len(in.TrackLevels) == 0 {
		return fmt.Errorf("partner %s holds a level in no track of program %s", in.PartnerID, p.ID)
	}
	if problems := p.CheckLevels(in.TrackLevels); len(problems) > 0 {
		return fmt.Errorf("partner %s: %s", in.PartnerID, problems[0])
	}
	return nil
}

// evaluateTracks applies every track's rules to the partner's facts and
// sums them up in the run's Evaluation: it meets what is expected when
// every track does, and misses what any track misses.
func (t *transition) evaluateTracks() {
	evs, err := program.EvaluateTracks(nil, t.tracks, t.in.OldTier, t.in.TrackLevels, t.s.Partner.Facts)
	if err != nil {
		t.log.Error("evaluate partner", "error", err)
		return
	}
	sum := program.Evaluation{OldTier: t.in.OldTier, ExpectedTier: program.ExpectedLevels(t.tracks, t.in.TrackLevels),
		MeetsExpected: true, Outcome: program.HeadlineOutcome(evs)}
	for _, ev := range evs {
		sum.MeetsExpected = sum.MeetsExpected && ev.MeetsExpected
		sum.Missing = append(sum.Missing, ev.Missing...)
	}
	t.s.Tracks, t.s.Evaluation = evs, sum
}

// applyEarlyTracks grants, in each track whose program says a qualifying
// partner need not wait (apply_at: qualification), its expected level. It
// runs when the partner first meets every track's expected level (the
// qualified notice, sent once), so once.
func (t *transition) applyEarlyTracks(ctx workflow.Context) {
	for _, ev := range t.s.Tracks {
		tp, _ := t.prog.TrackProgram(ev.Track)
		if tp.ApplyAt != program.ApplyAtQualification || !ev.MeetsExpected {
			continue
		}
		t.changeTrack(ctx, "qualified", ev.Track, ev.ExpectedTier, "qualified", "met the requirements before the deadline", "workflow")
	}
}

// decideTracks decides every track at the deadline with the freshest
// facts: one tier change per track, then one outcome email naming each.
func (t *transition) decideTracks(ctx workflow.Context) {
	t.s.Stage = StageDeciding
	t.showDeciding(ctx)
	t.evaluate(ctx)
	for _, ev := range t.s.Tracks {
		t.changeTrack(ctx, "outcome", ev.Track, ev.NewTier, string(ev.Outcome), "deadline reached", "workflow")
		t.s.TrackResults = append(t.s.TrackResults, TrackResult{Track: ev.Track, OldTier: ev.OldTier, NewTier: ev.NewTier, Outcome: string(ev.Outcome)})
	}
	t.s.Outcome = string(t.s.Evaluation.Outcome)
	t.s.NewTier = t.s.CurrentTier
	t.sendEmail(ctx, email.KindOutcome, "outcome", nil)
	t.s.Stage = StageDone
	t.record(ctx)
	_ = t.show(ctx)
}

// endTracks records an operator's exemption (each track gets its expected
// level) or withdrawal (each track keeps its level), one row per track.
func (t *transition) endTracks(ctx workflow.Context) {
	e := t.s.Ending
	for _, tp := range t.tracks {
		old, ok := levelOf(t.in.TrackLevels, tp.Name)
		if !ok {
			continue
		}
		to := t.trackTier(tp.Name)
		if e.Outcome == OutcomeExempted {
			rule, _ := tp.Transition(old)
			to = rule.Expect
		}
		t.changeTrack(ctx, e.Outcome, tp.Name, to, e.Outcome, e.Reason, e.Actor)
		t.s.TrackResults = append(t.s.TrackResults, TrackResult{Track: tp.Name, OldTier: old, NewTier: to, Outcome: e.Outcome})
	}
	t.s.Outcome = e.Outcome
	t.s.NewTier = t.s.CurrentTier
	t.s.Stage = StageDone
	t.record(ctx)
	_ = t.show(ctx)
}

// levelOf is a partner's level in track.
func levelOf(levels []program.TrackLevel, track string) (string, bool) {
	for _, lv := range levels {
		if lv.Track == track {
			return lv.Tier, true
		}
	}
	return "", false
}

// trackTier is the partner's current level in track.
func (t *transition) trackTier(track string) string {
	tier, _ := levelOf(t.s.TrackTiers, track)
	return tier
}

// changeTrack writes one track's level change and its audit row, once per
// (step, track), and keeps the run's view of the partner's levels.
func (t *transition) changeTrack(ctx workflow.Context, step, track, to, outcome, reason, actor string) {
	change := t.tierChange(step, t.trackTier(track), to, outcome, reason, actor)
	change.Track = track
	if !t.applyChange(ctx, change) {
		return
	}
	for i := range t.s.TrackTiers {
		if t.s.TrackTiers[i].Track == track {
			t.s.TrackTiers[i].Tier = to
		}
	}
}

// TrackResult is one track's decision in a finished transition: its level
// before, after, and the outcome (promoted, kept, demoted, exempted,
// withdrawn).
type TrackResult struct {
	Track   string `json:"track"`
	OldTier string `json:"old_tier"`
	NewTier string `json:"new_tier"`
	Outcome string `json:"outcome"`
}

// trackOutcomes lists "Track:outcome" for every decided track, in program
// order: the TrackOutcomes search attribute's values.
func trackOutcomes(rs []TrackResult) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Track+":"+r.Outcome)
	}
	return out
}
