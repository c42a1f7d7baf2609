package workflows

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/tiershift/tiershift/activities/contract"
	"github.com/tiershift/tiershift/program"
)

// A Red Hat partner at Ready in all three modules, with $150,000 of
// licences, 30 points and one RHCSA. By examples/redhat-pex/program.yaml:
// Distribution Ready asks $1,000,000, so it falls to Registered (demoted);
// Resell Advanced asks an RHCSA and $100,000 (Premier two RHCE), so it
// rises to Advanced (promoted); Sell With Ready asks 25 points and
// Advanced 150, so it stays Ready (kept).
var (
	redHatLevels = []program.TrackLevel{{Track: "Distribution", Tier: "Ready"}, {Track: "Resell", Tier: "Ready"}, {Track: "Sell With", Tier: "Ready"}}
	redHatFacts  = program.Facts{Revenue: usd(150_000), Points: 30, Certifications: map[string]int{"RHCSA": 1}}
	redHatWant   = []TrackResult{
		{Track: "Distribution", OldTier: "Ready", NewTier: "Registered", Outcome: "demoted"},
		{Track: "Resell", OldTier: "Ready", NewTier: "Advanced", Outcome: "promoted"},
		{Track: "Sell With", OldTier: "Ready", NewTier: "Ready", Outcome: "kept"},
	}
)

func newTrackHarness(t *testing.T) *harness {
	h := newHarness(t, loadExample(t, "redhat-pex"), "Ready", redHatFacts)
	h.in.CampaignID = "rh-pex"
	h.in.TrackLevels = redHatLevels
	return h
}

// Every track is decided at the deadline (six months after launch in each
// track): one tier change per track, one outcome email naming each track,
// and the result per track.
func TestThreeTracksDecidedAtTheDeadline(t *testing.T) {
	h := newTrackHarness(t)
	r := h.run()

	deadline := launch.AddDate(0, 6, 1).Add(-time.Second) // the end of that day, UTC (the program names no zone)
	if !slices.Equal(r.Tracks, redHatWant) || r.Outcome != "demoted" {
		t.Fatalf("result %+v, want tracks %+v and demoted (one track is)", r, redHatWant)
	}
	var changes []contract.TierChange
	for _, c := range h.be.changes {
		if c.Step == "outcome" {
			changes = append(changes, c)
		}
	}
	if len(changes) != 3 || len(h.be.changes) != 3 {
		t.Fatalf("tier changes %+v, want one per track at the outcome", h.be.changes)
	}
	for i, c := range changes {
		w := redHatWant[i]
		if c.Track != w.Track || c.FromTier != w.OldTier || c.ToTier != w.NewTier || c.Outcome != w.Outcome {
			t.Errorf("change %d = %+v, want %+v", i, c, w)
		}
	}
	var outcomes []sentEmail
	for _, e := range h.be.emails {
		if e.Step == "outcome" {
			outcomes = append(outcomes, e)
		}
	}
	if len(outcomes) != 1 || !outcomes[0].At.Equal(deadline) || len(outcomes[0].Data.Tracks) != 3 {
		t.Fatalf("outcome emails %+v, want one at %v naming three tracks", outcomes, deadline)
	}
	for i, td := range outcomes[0].Data.Tracks {
		if td.Track != redHatWant[i].Track || string(td.Outcome) != redHatWant[i].Outcome || td.NewTier != redHatWant[i].NewTier {
			t.Errorf("outcome email track %d = %+v, want %+v", i, td, redHatWant[i])
		}
	}
	if st := h.query(); len(st.TrackResults) != 3 || st.Stage != StageDone {
		t.Fatalf("status %+v", st)
	}
}

// Reminders go out while a track misses something, and say per track what
// it misses: here Distribution's licences, Sell With's Advanced being no
// one's expectation. The enrollment row (starter status) lists it too.
func TestTrackRemindersListWhatEachTrackMisses(t *testing.T) {
	h := newTrackHarness(t)
	h.run()
	if !slices.ContainsFunc(h.be.stages, func(u contract.StageUpdate) bool {
		return u.Stage == string(StageReminding) && len(u.Missing) == 1 && u.Missing[0].Kind == program.MissingRevenue
	}) {
		t.Errorf("no reminding stage recorded Distribution's missing licences: %+v", h.be.stages)
	}
	for _, off := range h.prog.Reminders {
		e, ok := h.be.email("reminder/" + off.String() + "/r0")
		if !ok {
			t.Fatalf("no reminder %s: emails %v", off, h.be.steps())
		}
		if len(e.Data.Tracks) != 3 {
			t.Fatalf("reminder %s names %d tracks, want 3", off, len(e.Data.Tracks))
		}
		for _, td := range e.Data.Tracks {
			missesRevenue := slices.ContainsFunc(td.Missing, func(m program.Missing) bool { return m.Kind == program.MissingRevenue })
			if (td.Track == "Distribution") != missesRevenue || (td.Track != "Distribution" && len(td.Missing) > 0) {
				t.Errorf("reminder %s, track %s: missing %+v", off, td.Track, td.Missing)
			}
		}
	}
}

// A partner that meets every track's expected level gets no reminder.
func TestTracksAllMetSendNoReminder(t *testing.T) {
	h := newTrackHarness(t)
	h.be.partner.Facts = program.Facts{Revenue: usd(1_000_000), Points: 30, Certifications: map[string]int{"RHCSA": 1}}
	r := h.run()
	if got := h.be.steps(); !slices.Equal(got, []string{"announcement", "outcome"}) {
		t.Fatalf("emails %v, want the announcement and the outcome only", got)
	}
	if r.Outcome != "promoted" {
		t.Fatalf("outcome %q: Resell rises to Advanced and no track falls", r.Outcome)
	}
}

// The TrackOutcomes search attribute is set at the deadline, one value per
// track, so operators filter on TrackOutcomes = "Resell:promoted".
func TestTrackOutcomesSearchAttribute(t *testing.T) {
	h := newTrackHarness(t)
	var at time.Time
	var got []string
	h.env.OnUpsertTypedSearchAttributes(mock.Anything).Run(func(args mock.Arguments) {
		if v, ok := args.Get(0).(temporal.SearchAttributes).GetKeywordList(TrackOutcomesKey); ok {
			at, got = h.env.Now(), v
		}
	}).Return(nil)
	h.run()
	want := []string{"Distribution:demoted", "Resell:promoted", "Sell With:kept"}
	if !slices.Equal(got, want) || !at.Equal(launch.AddDate(0, 6, 1).Add(-time.Second)) {
		t.Fatalf("TrackOutcomes = %v at %v, want %v at the deadline", got, at, want)
	}
}

// An exemption gives every track its expected level, one row per track:
// here Resell partners at Ready are expected to reach Advanced.
func TestExemptingATrackPartnerGrantsEachTrack(t *testing.T) {
	h := newTrackHarness(t)
	resell := &h.prog.Tracks[1]
	if resell.Name != "Resell" || resell.Transitions[0].From != "Ready" {
		t.Fatalf("the example's second track is %s, its first transition from %s", resell.Name, resell.Transitions[0].From)
	}
	resell.Transitions[0].Expect = "Advanced"
	h.at(time.Hour, func() { h.update(MessageExempt, "x", Exempt{ID: "x", Reason: "strategic", Actor: "ops"}) })
	r := h.run()
	if len(h.be.changes) != 3 || r.Outcome != OutcomeExempted {
		t.Fatalf("changes %+v result %+v", h.be.changes, r)
	}
	for _, c := range h.be.changes {
		want := "Ready"
		if c.Track == "Resell" {
			want = "Advanced"
		}
		if c.ToTier != want || c.Outcome != OutcomeExempted || c.FromTier != "Ready" {
			t.Errorf("change %+v, want the track's expected level %s", c, want)
		}
	}
}

// A partner holding no level in any track cannot start: nothing would be
// decided.
func TestTrackPartnerWithoutLevelsFails(t *testing.T) {
	h := newTrackHarness(t)
	h.in.TrackLevels = nil
	h.env.ExecuteWorkflow(WorkflowName, h.in)
	var appErr *temporal.ApplicationError
	if err := h.env.GetWorkflowError(); err == nil || !errors.As(err, &appErr) || appErr.Type() != contract.ErrTypeInvalidInput {
		t.Fatalf("workflow error %v, want invalid input", err)
	}
}

// Only a program with tracks asks for changeTracks: a run of a program
// without tracks records no new marker and takes no new branch, so it runs
// exactly as before.
func TestOnlyTrackProgramsAskForTheTrackMarker(t *testing.T) {
	for _, c := range []struct {
		name string
		h    func() *harness
		want bool
	}{
		{"vmware-2009", func() *harness { return newHarness(t, loadExample(t, "vmware-2009"), "Enterprise", program.Facts{}) }, false},
		{"redhat-pex", func() *harness { return newTrackHarness(t) }, true},
	} {
		h := c.h()
		asked := false
		h.env.OnGetVersion(changeTracks, workflow.DefaultVersion, 1).Run(func(mock.Arguments) { asked = true }).Return(workflow.Version(1))
		r := h.run()
		if asked != c.want || (len(r.Tracks) > 0) != c.want {
			t.Errorf("%s: asked for %s %v, result tracks %+v", c.name, changeTracks, asked, r.Tracks)
		}
		for _, ch := range h.be.changes {
			if (ch.Track != "") != c.want {
				t.Errorf("%s: tier change %+v", c.name, ch)
			}
		}
	}
}

// A track whose program grants a level as soon as it is met (apply_at:
// qualification) gets it at the announcement, once, in that track only.
func TestApplyAtQualificationGrantsATrackLevelAtOnce(t *testing.T) {
	h := newTrackHarness(t)
	sellWith := &h.prog.Tracks[2]
	if sellWith.Name != "Sell With" {
		t.Fatalf("the example's third track is %s", sellWith.Name)
	}
	sellWith.ApplyAt = program.ApplyAtQualification
	// Every track's expected level (Ready) is met: $1,000,000 for
	// Distribution, one tranche for Resell, 25 points for Sell With.
	h.be.partner.Facts = program.Facts{Revenue: usd(1_000_000), Points: 30, Certifications: map[string]int{"RHCSA": 1}}
	h.run()
	var early []contract.TierChange
	for _, c := range h.be.changes {
		if c.Step == "qualified" {
			early = append(early, c)
		}
	}
	if len(early) != 1 || early[0].Track != "Sell With" || early[0].ToTier != "Ready" || early[0].FromTier != "Ready" {
		t.Fatalf("early changes %+v, want Sell With granted Ready once", early)
	}
}

// A track transition continued as new many times (the server suggests it
// as the history grows) keeps its levels and decides every track once, as
// one uninterrupted run does.
func TestTrackTransitionContinuesAsNew(t *testing.T) {
	prog := loadExample(t, "redhat-pex")
	be := &backend{reject: map[string]bool{}, program: prog, partner: contract.PartnerSnapshot{
		PartnerID: "p-1", Name: "Acme", Email: "a@acme.example", Locale: "en", Tier: "Ready", Facts: redHatFacts,
	}}
	in := TransitionInput{CampaignID: "rh", PartnerID: "p-1", OldTier: "Ready", LaunchAt: launch, ProgramID: prog.ID, TrackLevels: redHatLevels}
	runs, env := continueAsNewRuns(t, be, in, nil, func(TransitionInput) {})
	var r Result
	if err := env.GetWorkflowResult(&r); err != nil {
		t.Fatal(err)
	}
	if runs < 3 {
		t.Fatalf("only %d runs: the workflow did not continue as new", runs)
	}
	if !slices.Equal(r.Tracks, redHatWant) {
		t.Fatalf("after %d runs the result is %+v, want %+v", runs, r.Tracks, redHatWant)
	}
	if len(be.changes) != 3 {
		t.Fatalf("after %d runs: tier changes %+v, want one per track", runs, be.changes)
	}
	for i, c := range be.changes {
		if w := redHatWant[i]; c.Step != "outcome" || c.Track != w.Track || c.FromTier != w.OldTier || c.ToTier != w.NewTier {
			t.Errorf("after %d runs: change %+v, want %+v", runs, c, w)
		}
	}
}
