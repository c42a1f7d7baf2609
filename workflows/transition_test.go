package workflows

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/tiershift/tiershift/activities/contract"
	"github.com/tiershift/tiershift/email"
	"github.com/tiershift/tiershift/program"
)

// backend stands in for Postgres and SendGrid at the activity boundary: the
// workflow logic is under test here, and every call is recorded so the tests
// assert on what the workflow asked for, with which arguments, at what time.
// The real activities are tested against real services in their package.
type backend struct {
	mu      sync.Mutex
	env     *testsuite.TestWorkflowEnvironment
	partner contract.PartnerSnapshot
	loads   []time.Time
	stages  []contract.StageUpdate
	changes []contract.TierChange
	emails  []sentEmail
	// reject makes SendEmail answer "failed" for these steps.
	reject map[string]bool
	// program is what LoadProgram answers (nil: the campaign has none);
	// programLoads counts its calls and onLoadProgram, when set, runs
	// inside each.
	program       *program.Program
	programLoads  int
	onLoadProgram func()
}

type sentEmail struct {
	contract.SendEmailInput
	At time.Time
}

func (b *backend) now() time.Time { return b.env.Now() }

func (b *backend) LoadProgram(_ context.Context, ref contract.CampaignRef) (*program.Program, error) {
	b.mu.Lock()
	b.programLoads++
	p, hook := b.program, b.onLoadProgram
	b.mu.Unlock()
	if hook != nil {
		hook()
	}
	if p == nil {
		return nil, temporal.NewNonRetryableApplicationError("campaign "+ref.CampaignID+" has no stored program", contract.ErrTypeNoProgram, nil)
	}
	return p, nil
}

func (b *backend) LoadPartner(_ context.Context, ref contract.PartnerRef) (contract.PartnerSnapshot, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.loads = append(b.loads, b.now())
	p := b.partner
	p.Facts = p.Facts.Clone()
	return p, nil
}

func (b *backend) RecordStage(_ context.Context, u contract.StageUpdate) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.stages = append(b.stages, u)
	return nil
}

func (b *backend) ApplyTierChange(_ context.Context, c contract.TierChange) (contract.TierChangeResult, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, done := range b.changes {
		if done.WorkflowID == c.WorkflowID && done.Step == c.Step && done.Track == c.Track {
			return contract.TierChangeResult{}, nil
		}
	}
	b.changes = append(b.changes, c)
	return contract.TierChangeResult{Applied: true}, nil
}

func (b *backend) SendEmail(_ context.Context, in contract.SendEmailInput) (contract.SendEmailResult, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, e := range b.emails {
		if e.WorkflowID == in.WorkflowID && e.Step == in.Step {
			return contract.SendEmailResult{Status: contract.EmailSent, AlreadyDone: true}, nil
		}
	}
	b.emails = append(b.emails, sentEmail{in, b.now()})
	if b.reject[in.Step] {
		return contract.SendEmailResult{Status: contract.EmailFailed, Error: "does not contain a valid address"}, nil
	}
	return contract.SendEmailResult{Status: contract.EmailSent, MessageID: "msg-" + in.Step}, nil
}

// register puts the stand-ins in r through the references the workflow
// calls, as the worker does with the real activities: a stand-in whose
// types drift from the contract does not compile.
func (b *backend) register(r contract.Registry) {
	contract.LoadProgram.Register(r, b.LoadProgram)
	contract.LoadPartner.Register(r, b.LoadPartner)
	contract.RecordStage.Register(r, b.RecordStage)
	contract.ApplyTierChange.Register(r, b.ApplyTierChange)
	contract.SendEmail.Register(r, b.SendEmail)
}

func (b *backend) setFacts(f program.Facts) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.partner.Facts = f
}

func (b *backend) steps() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for _, e := range b.emails {
		out = append(out, e.Step)
	}
	return out
}

func (b *backend) email(step string) (sentEmail, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, e := range b.emails {
		if e.Step == step {
			return e, true
		}
	}
	return sentEmail{}, false
}

// newEnv is a test environment that logs warnings and errors only.
func newEnv() *testsuite.TestWorkflowEnvironment {
	var suite testsuite.WorkflowTestSuite
	suite.SetLogger(log.NewStructuredLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))))
	return suite.NewTestWorkflowEnvironment()
}

// loadExample reads one of the programs in examples/, the files vendors start from.
func loadExample(t *testing.T, name string) *program.Program {
	t.Helper()
	dir := filepath.Join("..", "examples")
	if d := os.Getenv("TIERSHIFT_EXAMPLES_DIR"); d != "" {
		dir = d
	}
	path := filepath.Join(dir, name, "program.yaml")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read example: %v", err)
	}
	p, err := program.Load(path, data)
	if err != nil {
		t.Fatalf("load example %s: %v", name, err)
	}
	return p
}

// harness runs one transition under the SDK's time-skipping test environment.
type harness struct {
	t    *testing.T
	env  *testsuite.TestWorkflowEnvironment
	be   *backend
	in   TransitionInput
	prog *program.Program
	// callbacks counts what at registered and ran: run fails the test
	// when one never ran, since its assertions would then check nothing.
	registered, ran int
}

var launch = time.Date(2009, time.April, 14, 0, 0, 0, 0, time.UTC)

func newHarness(t *testing.T, prog *program.Program, oldTier string, facts program.Facts) *harness {
	t.Helper()
	env := newEnv()
	env.SetStartTime(launch)
	be := &backend{env: env, reject: map[string]bool{}, program: prog, partner: contract.PartnerSnapshot{
		PartnerID: "p-1", Name: "Société Générale d'Intégration", Email: "contact@sgi.example",
		Locale: "fr", Tier: oldTier, Facts: facts,
	}}
	env.RegisterWorkflowWithOptions(PartnerTransition, workflow.RegisterOptions{Name: WorkflowName})
	be.register(env)
	// As `starter launch` starts it: the program is the campaign's, loaded
	// by the workflow.
	return &harness{t: t, env: env, be: be, prog: prog, in: TransitionInput{
		CampaignID: "vmw-2009", PartnerID: "p-1", OldTier: oldTier, LaunchAt: launch, ProgramID: prog.ID,
	}}
}

// at runs f at a moment of workflow time measured from the start; run
// checks that it did.
func (h *harness) at(d time.Duration, f func()) {
	h.registered++
	h.env.RegisterDelayedCallback(func() {
		h.ran++
		f()
	}, d)
}

// until is the workflow time from the start to when.
func (h *harness) until(when time.Time) time.Duration { return when.Sub(launch) }

func (h *harness) run() Result {
	h.t.Helper()
	h.env.ExecuteWorkflow(WorkflowName, h.in)
	if !h.env.IsWorkflowCompleted() {
		h.t.Fatal("workflow did not complete")
	}
	if err := h.env.GetWorkflowError(); err != nil {
		h.t.Fatalf("workflow failed: %v", err)
	}
	if h.ran != h.registered {
		h.t.Fatalf("%d of the %d callbacks registered with at ran before the workflow ended", h.ran, h.registered)
	}
	var r Result
	if err := h.env.GetWorkflowResult(&r); err != nil {
		h.t.Fatal(err)
	}
	return r
}

// updateResult is filled in when the workflow has handled an Update: the
// test environment answers asynchronously, so tests check it after run().
type updateResult struct {
	done   bool
	err    error
	status Status
}

// update sends an Update.
func (h *harness) update(name, id string, arg any) *updateResult {
	r := &updateResult{}
	h.env.UpdateWorkflow(name, id, &testsuite.TestUpdateCallback{
		OnAccept: func() {},
		OnReject: func(err error) { r.done, r.err = true, err },
		OnComplete: func(v any, err error) {
			r.done, r.err = true, err
			if st, ok := v.(Status); ok {
				r.status = st
			}
		},
	}, arg)
	return r
}

// accepted fails the test unless the Update was handled without error.
func (r *updateResult) accepted(t *testing.T, what string) Status {
	t.Helper()
	if !r.done || r.err != nil {
		t.Fatalf("%s: handled %v, error %v", what, r.done, r.err)
	}
	return r.status
}

// deadline is the partner's deadline as a new run sets it: the end of the
// grace period's last day in the program's zone.
func (h *harness) deadline() time.Time {
	d, err := h.prog.DeadlineIn(h.in.OldTier, launch, programZone(h.t, h.prog))
	if err != nil {
		h.t.Fatal(err)
	}
	return d
}

func (h *harness) query() Status {
	h.t.Helper()
	v, err := h.env.QueryWorkflow(QueryStatus)
	if err != nil {
		h.t.Fatalf("query status: %v", err)
	}
	var s Status
	if err := v.Get(&s); err != nil {
		h.t.Fatal(err)
	}
	return s
}

func vtsp(n int) map[string]int { return map[string]int{"VTSP": n} }

func usd(dollars int64) program.Money { return program.Money(dollars * 100) }

var enterpriseFacts = program.Facts{
	Certifications: vtsp(2), Competencies: []string{"Infrastructure Virtualization"}, Revenue: usd(10_000),
}

func TestEnterpriseMissingEverythingGetsEveryReminderThenFallsToRegistered(t *testing.T) {
	h := newHarness(t, loadExample(t, "vmware-2009"), "Enterprise", program.Facts{})
	r := h.run()

	deadline := h.deadline()
	// Launched 14 April 2009 00:00 UTC, 13 April 17:00 in Palo Alto: 9
	// months on, 13 January 2010 ends at 23:59:59 PST, 07:59:59 UTC on the 14th.
	if want := time.Date(2010, time.January, 14, 7, 59, 59, 0, time.UTC); !deadline.Equal(want) {
		t.Fatalf("Enterprise deadline = %v, want the end of the day 9 months after launch in Palo Alto %v", deadline, want)
	}
	want := []string{"announcement"}
	for _, r := range h.prog.Reminders {
		want = append(want, fmt.Sprintf("reminder/%s/r0", r))
	}
	want = append(want, "outcome")
	if got := h.be.steps(); !slices.Equal(got, want) {
		t.Fatalf("emails = %v, want %v", got, want)
	}
	// Each reminder went out exactly at its offset before the deadline.
	for _, off := range h.prog.Reminders {
		e, _ := h.be.email(fmt.Sprintf("reminder/%s/r0", off))
		if want := off.SubFrom(deadline); !e.At.Equal(want) {
			t.Errorf("reminder %s sent at %v, want %v", off, e.At, want)
		}
		if len(e.Data.Missing) == 0 || e.Kind != email.KindReminder || e.Locale != "fr" {
			t.Errorf("reminder %s: kind %s locale %s missing %v", off, e.Kind, e.Locale, e.Data.Missing)
		}
	}
	out, _ := h.be.email("outcome")
	if !out.At.Equal(deadline) || out.Data.NewTier != "Registered" || out.Data.Outcome != program.OutcomeDemoted {
		t.Fatalf("outcome email at %v new tier %q outcome %q", out.At, out.Data.NewTier, out.Data.Outcome)
	}
	if r.Outcome != "demoted" || r.NewTier != "Registered" {
		t.Fatalf("result = %+v, want demoted to Registered", r)
	}
	if len(h.be.changes) != 1 || h.be.changes[0].FromTier != "Enterprise" || h.be.changes[0].ToTier != "Registered" || h.be.changes[0].Step != "outcome" {
		t.Fatalf("tier changes = %+v", h.be.changes)
	}
	last := h.be.stages[len(h.be.stages)-1]
	if last.Stage != string(StageDone) || last.Outcome != "demoted" || last.NewTier != "Registered" {
		t.Fatalf("last stage update = %+v", last)
	}
	for i := 1; i < len(h.be.stages); i++ {
		if h.be.stages[i].Seq <= h.be.stages[i-1].Seq {
			t.Fatalf("stage updates not ordered by seq: %d then %d", h.be.stages[i-1].Seq, h.be.stages[i].Seq)
		}
	}
}

func TestOutcomes(t *testing.T) {
	cases := []struct {
		name, example, oldTier string
		facts                  program.Facts
		outcome                program.Outcome
		newTier                string
	}{
		{"vmware enterprise kept", "vmware-2009", "Enterprise", enterpriseFacts, program.OutcomeKept, "Enterprise"},
		{"vmware enterprise demoted one tier", "vmware-2009", "Enterprise", program.Facts{Certifications: vtsp(1)}, program.OutcomeDemoted, "Professional"},
		{"vmware professional to fallback", "vmware-2009", "Professional", program.Facts{}, program.OutcomeDemoted, "Registered"},
		{"vmware professional promoted", "vmware-2009", "Professional", enterpriseFacts, program.OutcomePromoted, "Enterprise"},
		{"puppet gold with service delivery", "puppet-2022", "Gold", program.Facts{Certifications: map[string]int{"Service Delivery": 1}}, "", "Solution Provider"},
		{"puppet gold without", "puppet-2022", "Gold", program.Facts{}, "", "Authorized Reseller"},
		{"microsoft 119 points", "microsoft-2004", "", program.Facts{Points: 119}, "", "Certified"},
		{"microsoft 120 points", "microsoft-2004", "", program.Facts{Points: 120}, "", "Gold Certified"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			prog := loadExample(t, c.example)
			old := c.oldTier
			if old == "" {
				old = prog.OldTiers[len(prog.OldTiers)-1]
			}
			h := newHarness(t, prog, old, c.facts)
			r := h.run()
			want, err := prog.Evaluate(old, c.facts)
			if err != nil {
				t.Fatal(err)
			}
			if r.NewTier != c.newTier || r.NewTier != want.NewTier || r.Outcome != string(want.Outcome) {
				t.Fatalf("result %+v; want new tier %s (rules say %s, %s)", r, c.newTier, want.NewTier, want.Outcome)
			}
			if c.outcome != "" && r.Outcome != string(c.outcome) {
				t.Fatalf("outcome %s, want %s", r.Outcome, c.outcome)
			}
			if !h.env.Now().Equal(h.deadline()) {
				t.Fatalf("decided at %v, want the deadline %v", h.env.Now(), h.deadline())
			}
		})
	}
}

func TestQualifyingMidwayStopsRemindersAndSendsQualifiedOnce(t *testing.T) {
	h := newHarness(t, loadExample(t, "vmware-2009"), "Enterprise", program.Facts{Certifications: vtsp(1)})
	deadline := h.deadline()
	// Between the 90-day and 30-day reminders the partner earns what it missed.
	var first, again, second *updateResult
	h.at(h.until(deadline.AddDate(0, 0, -60)), func() {
		h.be.setFacts(enterpriseFacts)
		first = h.update(MessageFacts, "lms-1", FactsChanged{ID: "lms-1", Change: &program.FactChange{Op: "cert-earned", Name: "VTSP"}})
		// The same message again (a retried delivery) changes nothing.
		again = h.update(MessageFacts, "lms-1-again", FactsChanged{ID: "lms-1", Change: &program.FactChange{Op: "cert-earned", Name: "VTSP"}})
	})
	h.at(h.until(deadline.AddDate(0, 0, -59)), func() {
		second = h.update(MessageFacts, "lms-2", FactsChanged{ID: "lms-2"})
	})
	r := h.run()
	if st := first.accepted(t, "facts update"); !st.MeetsExpected || st.Stage != StageQualified {
		t.Fatalf("facts update answered %+v, want the new evaluation", st)
	}
	again.accepted(t, "duplicate facts update")
	second.accepted(t, "second facts update")
	want := []string{"announcement", "reminder/90 days/r0", "qualified", "outcome"}
	if got := h.be.steps(); !slices.Equal(got, want) {
		t.Fatalf("emails = %v, want %v", got, want)
	}
	q, _ := h.be.email("qualified")
	if !q.At.Equal(deadline.AddDate(0, 0, -60)) || q.Data.NewTier != "Enterprise" {
		t.Fatalf("qualified email at %v for %q", q.At, q.Data.NewTier)
	}
	if r.Outcome != "kept" || r.NewTier != "Enterprise" {
		t.Fatalf("result %+v, want kept Enterprise", r)
	}
	// apply_at: deadline, so the only tier change is the outcome.
	if len(h.be.changes) != 1 || h.be.changes[0].Step != "outcome" {
		t.Fatalf("tier changes = %+v", h.be.changes)
	}
}

func TestApplyAtQualificationGrantsTierAtOnce(t *testing.T) {
	prog := loadExample(t, "vmware-2009")
	prog.ApplyAt = program.ApplyAtQualification
	h := newHarness(t, prog, "Professional", program.Facts{})
	h.at(48*time.Hour, func() {
		h.be.setFacts(program.Facts{Certifications: vtsp(1)})
		h.update(MessageFacts, "u1", FactsChanged{ID: "u1"})
	})
	h.at(49*time.Hour, func() {
		if st := h.query(); st.CurrentTier != "Professional" || st.Stage != StageQualified || !st.MeetsExpected {
			t.Errorf("after qualifying: %+v", st)
		}
	})
	h.run()
	if len(h.be.changes) != 2 || h.be.changes[0].Step != "qualified" || h.be.changes[1].Step != "outcome" {
		t.Fatalf("tier changes = %+v", h.be.changes)
	}
}

func TestAlreadyQualifiedPartnerGetsNoReminders(t *testing.T) {
	h := newHarness(t, loadExample(t, "vmware-2009"), "Enterprise", enterpriseFacts)
	h.run()
	want := []string{"announcement", "outcome"}
	if got := h.be.steps(); !slices.Equal(got, want) {
		t.Fatalf("emails = %v, want %v", got, want)
	}
	a, _ := h.be.email("announcement")
	if len(a.Data.Missing) != 0 {
		t.Fatalf("announcement lists missing items for a qualified partner: %v", a.Data.Missing)
	}
}

func TestExtensionMovesDeadlineAndReminders(t *testing.T) {
	h := newHarness(t, loadExample(t, "vmware-2009"), "Professional", program.Facts{})
	deadline := h.deadline()
	extendAt := deadline.AddDate(0, 0, -10) // after the 30-day reminder, before the 7-day one
	var ext, dup *updateResult
	h.at(h.until(extendAt), func() {
		ext = h.update(MessageExtend, "ext-1", ExtendDeadline{ID: "ext-1", By: program.Duration{Days: 30}, Reason: "LMS outage", Actor: "ops"})
		// A duplicate of the same operator action is not applied twice.
		dup = h.update(MessageExtend, "ext-1-dup", ExtendDeadline{ID: "ext-1", By: program.Duration{Days: 30}, Reason: "LMS outage"})
	})
	r := h.run()
	// 30 days later on the program's calendar: the same wall-clock end of
	// day, across the change from summer to winter time.
	newDeadline := deadline.In(programZone(t, h.prog)).AddDate(0, 0, 30)
	if st := ext.accepted(t, "extend"); !st.Deadline.Equal(newDeadline) {
		t.Fatalf("extend answered deadline %v", st.Deadline)
	}
	if st := dup.accepted(t, "duplicate extend"); len(st.Extensions) != 1 {
		t.Fatalf("duplicate extend applied: %+v", st.Extensions)
	}
	if !h.env.Now().Equal(newDeadline) {
		t.Fatalf("decided at %v, want the extended deadline %v", h.env.Now(), newDeadline)
	}
	got := h.be.steps()
	want := []string{"announcement", "reminder/90 days/r0", "reminder/30 days/r0", "extended/r1"}
	// The new deadline's 30-day slot (20 days after the extension) is still
	// ahead; slots already passed at the extension are not sent late.
	for _, off := range h.prog.Reminders {
		if !off.SubFrom(newDeadline).Before(extendAt) {
			want = append(want, fmt.Sprintf("reminder/%s/r1", off))
		}
	}
	want = append(want, "outcome")
	if !slices.Equal(got, want) {
		t.Fatalf("emails = %v, want %v", got, want)
	}
	notice, _ := h.be.email("extended/r1")
	if !notice.Data.Deadline.Equal(newDeadline) || !notice.Data.PreviousDeadline.Equal(deadline) {
		t.Fatalf("extended email deadlines %v (was %v)", notice.Data.Deadline, notice.Data.PreviousDeadline)
	}
	if r.Outcome != "demoted" {
		t.Fatalf("result %+v", r)
	}
}

func TestExemptAndWithdrawEndTheTransition(t *testing.T) {
	for _, c := range []struct {
		name    string
		message string
		arg     any
		outcome string
		toTier  string
	}{
		{"exempt", MessageExempt, Exempt{ID: "x", Reason: "strategic account", Actor: "ops"}, OutcomeExempted, "Enterprise"},
		{"withdraw", MessageWithdraw, Withdraw{ID: "w", Reason: "left the channel", Actor: "ops"}, OutcomeWithdrawn, "Enterprise"},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, loadExample(t, "vmware-2009"), "Enterprise", program.Facts{})
			var end, late *updateResult
			h.at(24*time.Hour, func() {
				end = h.update(c.message, "m1", c.arg)
				// Once ended, nothing can change the transition.
				late = h.update(MessageExtend, "m2", ExtendDeadline{By: program.Duration{Days: 1}})
			})
			r := h.run()
			end.accepted(t, c.name)
			if !late.done || late.err == nil {
				t.Fatalf("extend after %s: handled %v error %v, want a rejection", c.name, late.done, late.err)
			}
			if r.Outcome != c.outcome || !h.env.Now().Equal(launch.Add(24*time.Hour)) {
				t.Fatalf("result %+v at %v", r, h.env.Now())
			}
			if len(h.be.changes) != 1 || h.be.changes[0].Outcome != c.outcome || h.be.changes[0].ToTier != c.toTier || h.be.changes[0].Actor != "ops" {
				t.Fatalf("tier changes = %+v", h.be.changes)
			}
			if got := h.be.steps(); !slices.Equal(got, []string{"announcement"}) {
				t.Fatalf("emails = %v", got)
			}
		})
	}
}

// Signals (what batch operations send) change the run as Updates do:
// validated, deduplicated by ID, refused once the transition has ended. The
// order in which Signals that arrive in one workflow task apply is pinned by
// the recorded history testdata/signalled.json (the test suite delivers each
// Signal in a task of its own).
func TestSignalsApplyLikeUpdates(t *testing.T) {
	h := newHarness(t, loadExample(t, "vmware-2009"), "Enterprise", program.Facts{})
	var st Status
	h.at(24*time.Hour, func() {
		h.env.SignalWorkflow(MessageExtend, ExtendDeadline{ID: "e", By: program.Duration{Days: 30}, Reason: "r", Actor: "ops"})
	})
	h.at(25*time.Hour, func() {
		st = h.query()
		h.env.SignalWorkflow(MessageExempt, Exempt{ID: "x", Reason: "strategic account", Actor: "ops"})
		h.env.SignalWorkflow(MessageExempt, Exempt{ID: "x2", Reason: "the same, twice", Actor: "ops"})
		h.env.SignalWorkflow(MessageWithdraw, Withdraw{ID: "w", Reason: "left the channel", Actor: "ops"})
	})
	r := h.run()
	if want := h.deadline().AddDate(0, 0, 30); !st.Deadline.Equal(want) {
		t.Fatalf("deadline %v, want %v: one extension of 30 days (the second Signal repeats its ID)", st.Deadline, want)
	}
	if r.Outcome != OutcomeExempted {
		t.Fatalf("outcome %s, want %s: the exemption came first and ended the run", r.Outcome, OutcomeExempted)
	}
	if len(h.be.changes) != 1 || h.be.changes[0].Reason != "strategic account" {
		t.Fatalf("tier changes = %+v, want one, for the first exemption", h.be.changes)
	}
}

func TestInvalidMessagesAreRejectedWithAClearError(t *testing.T) {
	h := newHarness(t, loadExample(t, "vmware-2009"), "Enterprise", program.Facts{})
	type rejection struct {
		name, want string
		arg        any
		got        *updateResult
	}
	var sent []*rejection
	h.at(time.Hour, func() {
		for _, c := range []*rejection{
			{name: MessageExtend, want: "empty", arg: ExtendDeadline{}},
			{name: MessageExtend, want: "negative", arg: ExtendDeadline{By: program.Duration{Days: -3}}},
			{name: MessageFacts, want: "VCP", arg: FactsChanged{Change: &program.FactChange{Op: "cert-earned", Name: "VCP"}}},
			{name: MessageExempt, want: "reason", arg: Exempt{}},
			{name: MessageExempt, want: "not a tier", arg: Exempt{Reason: "x", Tier: "Diamond"}},
			{name: MessageWithdraw, want: "reason", arg: Withdraw{}},
		} {
			c.got = h.update(c.name, fmt.Sprintf("bad-%d", len(sent)), c.arg)
			sent = append(sent, c)
		}
		// Invalid Signals are dropped too (a batch operation cannot be rejected).
		h.env.SignalWorkflow(MessageExtend, ExtendDeadline{By: program.Duration{Days: -1}})
	})
	h.run()
	if len(sent) != 6 {
		t.Fatalf("%d updates sent", len(sent))
	}
	for _, c := range sent {
		if !c.got.done || c.got.err == nil || !strings.Contains(c.got.err.Error(), c.want) {
			t.Errorf("%s %+v: error %v, want one mentioning %q", c.name, c.arg, c.got.err, c.want)
		}
	}
	if !h.env.Now().Equal(h.deadline()) {
		t.Fatalf("decided at %v; an invalid message moved the deadline from %v", h.env.Now(), h.deadline())
	}
}

func TestFactsInTheLastSecondCount(t *testing.T) {
	h := newHarness(t, loadExample(t, "vmware-2009"), "Enterprise", program.Facts{Certifications: vtsp(1)})
	h.at(h.until(h.deadline())-time.Second, func() {
		h.be.setFacts(enterpriseFacts)
		h.env.SignalWorkflow(MessageFacts, FactsChanged{ID: "late"})
	})
	if r := h.run(); r.Outcome != "kept" {
		t.Fatalf("result %+v, want kept: the facts a second before the deadline were ignored", r)
	}
}

func TestOutOfOrderMessagesBeforeLaunch(t *testing.T) {
	h := newHarness(t, loadExample(t, "vmware-2009"), "Professional", program.Facts{})
	h.in.LaunchAt = launch.AddDate(0, 1, 0) // launched a month after the workflow starts
	h.at(time.Hour, func() {
		if st := h.query(); st.Stage != StageWaitingLaunch {
			t.Errorf("stage before launch = %s", st.Stage)
		}
		h.update(MessageExtend, "e", ExtendDeadline{ID: "e", By: program.Duration{Months: 1}, Reason: "late start"})
		h.be.setFacts(program.Facts{Certifications: vtsp(1)})
		h.update(MessageFacts, "f", FactsChanged{ID: "f"})
	})
	r := h.run()
	steps := h.be.steps()
	if steps[0] != "announcement" || slices.Contains(steps, "extended/r1") || slices.Contains(steps, "qualified") {
		t.Fatalf("emails = %v: pre-launch messages must fold into the announcement", steps)
	}
	a, _ := h.be.email("announcement")
	if !a.At.Equal(h.in.LaunchAt) {
		t.Fatalf("announcement at %v, want the launch date %v", a.At, h.in.LaunchAt)
	}
	// Launched 13 May 17:00 in Palo Alto: 6 months and the month of the
	// extension end on 13 December 23:59:59 PST, 07:59:59 UTC on the 14th.
	if want := time.Date(2009, time.December, 14, 7, 59, 59, 0, time.UTC); !h.env.Now().Equal(want) || r.Outcome != "kept" {
		t.Fatalf("decided %s at %v, want kept at %v", r.Outcome, h.env.Now(), want)
	}
}

func TestRejectedEmailIsRecordedAndTheTransitionCompletes(t *testing.T) {
	h := newHarness(t, loadExample(t, "vmware-2009"), "Enterprise", enterpriseFacts)
	h.be.reject["announcement"] = true
	r := h.run()
	if !r.EmailFailed || r.Outcome != "kept" {
		t.Fatalf("result %+v", r)
	}
	if !slices.ContainsFunc(h.be.stages, func(u contract.StageUpdate) bool { return u.EmailFailed }) {
		t.Fatal("no stage update recorded the failed email")
	}
}

func TestStatusQueryShowsWhatIsMissingAndTheNextReminder(t *testing.T) {
	h := newHarness(t, loadExample(t, "vmware-2009"), "Enterprise", program.Facts{Certifications: vtsp(1)})
	deadline := h.deadline()
	h.at(h.until(deadline.AddDate(0, 0, -45)), func() {
		st := h.query()
		if st.Stage != StageReminding || st.RemindersSent != 1 || st.MeetsExpected || !st.Deadline.Equal(deadline) {
			t.Errorf("status = %+v", st)
		}
		if st.NextReminder == nil || !st.NextReminder.Equal(deadline.AddDate(0, 0, -30)) {
			t.Errorf("next reminder = %v, want 30 days before %v", st.NextReminder, deadline)
		}
		if !slices.ContainsFunc(st.Missing, func(m program.Missing) bool { return m.Name == "VTSP" && m.Have == 1 && m.Need == 2 }) {
			t.Errorf("missing = %+v, want VTSP 1/2", st.Missing)
		}
	})
	h.run()
}

// TestContinueAsNewKeepsEverything has the server suggest continue-as-new a
// day into every run and chains the runs as the server would: the reminders already sent are
// not sent again, and a message handled in an earlier run still counts.
// continueAsNewRuns runs a transition from in as a server would: each run
// is told, 24 hours of workflow time after it starts, that continue-as-new
// is suggested, and each continued run starts from the previous one's
// input. perRun adds callbacks to a run that starts at start; check sees
// each continued input. It returns how many runs it took and the last
// run's environment, the one that completed.
func continueAsNewRuns(t *testing.T, be *backend, in TransitionInput, perRun func(env *testsuite.TestWorkflowEnvironment, start time.Time),
	check func(next TransitionInput)) (int, *testsuite.TestWorkflowEnvironment) {
	t.Helper()
	start := launch
	for runs := 1; runs < 50; runs++ {
		env := newEnv()
		env.SetStartTime(start)
		be.env = env
		env.RegisterWorkflowWithOptions(PartnerTransition, workflow.RegisterOptions{Name: WorkflowName})
		be.register(env)
		// As a real server does once the history grows long.
		env.RegisterDelayedCallback(func() { env.SetContinueAsNewSuggested(true) }, 24*time.Hour)
		if perRun != nil {
			perRun(env, start)
		}
		env.ExecuteWorkflow(WorkflowName, in)
		err := env.GetWorkflowError()
		var can *workflow.ContinueAsNewError
		if !errors.As(err, &can) {
			if err != nil {
				t.Fatalf("run %d failed: %v", runs, err)
			}
			return runs, env
		}
		var next TransitionInput
		if err := converter.GetDefaultDataConverter().FromPayloads(can.Input, &next); err != nil {
			t.Fatal(err)
		}
		if next.State == nil {
			t.Fatal("continue-as-new without state")
		}
		check(next)
		in, start = next, env.Now()
	}
	t.Fatal("still continuing as new after 50 runs")
	return 0, nil
}

func TestContinueAsNewKeepsEverything(t *testing.T) {
	prog := loadExample(t, "vmware-2009")
	be := &backend{reject: map[string]bool{}, program: prog, partner: contract.PartnerSnapshot{
		PartnerID: "p-1", Name: "Acme", Email: "a@acme.example", Locale: "en", Tier: "Enterprise",
		Facts: program.Facts{Certifications: vtsp(1)},
	}}
	// Launched before the program was stored with the campaign: the first
	// run carries it; the continued runs carry only its ID and load it.
	in := TransitionInput{CampaignID: "c", PartnerID: "p-1", OldTier: "Enterprise", LaunchAt: launch, Program: prog}
	deadline, _ := prog.DeadlineIn("Enterprise", launch, programZone(t, prog))
	extended := false
	runs, _ := continueAsNewRuns(t, be, in, func(env *testsuite.TestWorkflowEnvironment, start time.Time) {
		if !extended {
			env.RegisterDelayedCallback(func() {
				extended = true
				env.SignalWorkflow(MessageExtend, ExtendDeadline{ID: "x", By: program.Duration{Days: 14}, Reason: "r"})
			}, deadline.AddDate(0, 0, -20).Sub(start))
		}
	}, func(next TransitionInput) {
		if next.Program != nil || next.ProgramID != prog.ID {
			t.Fatalf("continue-as-new carries program %v, ID %q; want only the ID %q", next.Program != nil, next.ProgramID, prog.ID)
		}
	})
	if runs < 3 {
		t.Fatalf("only %d runs: the suggestion did not make the workflow continue as new", runs)
	}
	want := []string{"announcement", "reminder/90 days/r0", "reminder/30 days/r0", "extended/r1"}
	newDeadline := deadline.AddDate(0, 0, 14)
	for _, off := range prog.Reminders {
		if !off.SubFrom(newDeadline).Before(deadline.AddDate(0, 0, -20)) {
			want = append(want, fmt.Sprintf("reminder/%s/r1", off))
		}
	}
	want = append(want, "outcome")
	if got := be.steps(); !slices.Equal(got, want) {
		t.Fatalf("after %d runs emails = %v, want %v", runs, got, want)
	}
	if e, _ := be.email("outcome"); !e.At.Equal(newDeadline) {
		t.Fatalf("outcome at %v, want the extended deadline %v", e.At, newDeadline)
	}
	if be.programLoads != runs-1 {
		t.Fatalf("program loaded %d times in %d runs; want once per continued run", be.programLoads, runs)
	}
}

// TestSearchAttributesFollowTheTransition records every upsert: operators
// filter on these in the Web UI, so each stage must show when it happens.
func TestSearchAttributesFollowTheTransition(t *testing.T) {
	h := newHarness(t, loadExample(t, "vmware-2009"), "Enterprise", program.Facts{})
	type upsert struct {
		at time.Time
		sa temporal.SearchAttributes
	}
	var upserts []upsert
	h.env.OnUpsertTypedSearchAttributes(mock.Anything).Run(func(args mock.Arguments) {
		upserts = append(upserts, upsert{h.env.Now(), args.Get(0).(temporal.SearchAttributes)})
	}).Return(nil)
	extendAt := launch.AddDate(0, 1, 0)
	h.at(h.until(extendAt), func() {
		h.update(MessageExtend, "e", ExtendDeadline{ID: "e", By: program.Duration{Days: 10}, Reason: "r"})
	})
	h.run()
	find := func(when time.Time, check func(temporal.SearchAttributes) bool) bool {
		return slices.ContainsFunc(upserts, func(u upsert) bool { return u.at.Equal(when) && check(u.sa) })
	}
	if !find(launch, func(sa temporal.SearchAttributes) bool {
		v, ok := sa.GetKeyword(StageKey)
		return ok && v == string(StageNotified)
	}) {
		t.Error("Stage was not set to notified at the announcement")
	}
	newDeadline := h.deadline().AddDate(0, 0, 10)
	if !find(extendAt, func(sa temporal.SearchAttributes) bool {
		v, ok := sa.GetTime(DeadlineKey)
		return ok && v.Equal(newDeadline)
	}) {
		t.Error("Deadline was not moved when the extension was handled")
	}
	if !find(newDeadline, func(sa temporal.SearchAttributes) bool {
		v, ok := sa.GetKeyword(OutcomeKey)
		return ok && v == "demoted"
	}) {
		t.Error("Outcome was not set at the deadline")
	}
}

// TestDeadlineShowsDecidingOnlyInOldRuns: a run from before
// showQuietDeciding upserts Stage=deciding at its deadline, as its history
// says; a new run does not (one visibility write less per partner in the
// deadline wave), and still ends with Stage=done and its outcome.
func TestDeadlineShowsDecidingOnlyInOldRuns(t *testing.T) {
	for _, c := range []struct {
		version      workflow.Version
		wantDeciding bool
	}{{1, true}, {showQuietDeciding, false}} {
		t.Run(fmt.Sprintf("show-notified %d", c.version), func(t *testing.T) {
			h := newHarness(t, loadExample(t, "vmware-2009"), "Enterprise", program.Facts{})
			h.env.OnGetVersion(changeShowNotified, workflow.DefaultVersion, showQuietDeciding).Return(c.version)
			var stages []string
			h.env.OnUpsertTypedSearchAttributes(mock.Anything).Run(func(args mock.Arguments) {
				if v, ok := args.Get(0).(temporal.SearchAttributes).GetKeyword(StageKey); ok {
					stages = append(stages, v)
				}
			}).Return(nil)
			if r := h.run(); r.Outcome != "demoted" {
				t.Fatalf("outcome %q", r.Outcome)
			}
			if got := slices.Contains(stages, string(StageDeciding)); got != c.wantDeciding {
				t.Errorf("Stage upserts %v: deciding shown %v, want %v", stages, got, c.wantDeciding)
			}
			if len(stages) == 0 || stages[len(stages)-1] != string(StageDone) {
				t.Errorf("Stage upserts %v: want done last", stages)
			}
		})
	}
}

// TestStoreStepsRunAsLocalActivities: a new run reads and writes Postgres as
// local activities, in the worker that runs it (one marker event each, no
// task queue round trip); only the email goes through the rate-limited email
// queue. A run that began before changeLocalStore keeps scheduling regular
// activities, as its history says. Both do the same things.
func TestStoreStepsRunAsLocalActivities(t *testing.T) {
	store := []string{contract.ApplyTierChange.Name(), contract.LoadPartner.Name(), contract.RecordStage.Name()}
	for _, c := range []struct {
		name           string
		version        workflow.Version
		local, regular []string
	}{
		// A new run also loads its program (see TestProgramComesFromTheInputOrTheCampaign).
		{"new run", 1, []string{contract.ApplyTierChange.Name(), contract.LoadPartner.Name(), contract.LoadProgram.Name(), contract.RecordStage.Name()}, []string{contract.SendEmail.Name()}},
		{"run from before the change", workflow.DefaultVersion, nil, append(slices.Clone(store), contract.SendEmail.Name())},
	} {
		t.Run(c.name, func(t *testing.T) {
			prog := loadExample(t, "vmware-2009")
			prog.ApplyAt = program.ApplyAtQualification // a tier change at the announcement too
			h := newHarness(t, prog, "Enterprise", enterpriseFacts)
			if c.version == workflow.DefaultVersion {
				h.env.OnGetVersion(changeLocalStore, workflow.DefaultVersion, 1).Return(workflow.DefaultVersion)
				h.in.Program = prog // launched then: the input carries it
			}
			var mu sync.Mutex
			local, regular := map[string]bool{}, map[string]bool{}
			h.env.SetOnLocalActivityStartedListener(func(info *activity.Info, _ context.Context, _ []any) {
				mu.Lock()
				defer mu.Unlock()
				local[info.ActivityType.Name] = true
			})
			h.env.SetOnActivityStartedListener(func(info *activity.Info, _ context.Context, _ converter.EncodedValues) {
				mu.Lock()
				defer mu.Unlock()
				regular[info.ActivityType.Name] = true
			})
			r := h.run()
			if got := slices.Sorted(maps.Keys(local)); !slices.Equal(got, c.local) {
				t.Errorf("local activities %v, want %v", got, c.local)
			}
			if got := slices.Sorted(maps.Keys(regular)); !slices.Equal(got, c.regular) {
				t.Errorf("regular activities %v, want %v", got, c.regular)
			}
			// One read at the announcement, one per reminder slot, one at
			// the deadline; the early tier change and the outcome.
			if r.Outcome != "kept" || len(h.be.loads) != len(prog.Reminders)+2 || len(h.be.changes) != 2 {
				t.Fatalf("result %+v, %d loads, %d tier changes", r, len(h.be.loads), len(h.be.changes))
			}
			if got := h.be.steps(); !slices.Equal(got, []string{"announcement", "outcome"}) {
				t.Fatalf("emails = %v", got)
			}
			if last := h.be.stages[len(h.be.stages)-1]; last.Stage != string(StageDone) || last.Outcome != "kept" {
				t.Fatalf("last stage update %+v", last)
			}
		})
	}
}

// TestProgramComesFromTheInputOrTheCampaign: `starter launch` passes only
// the program's ID and the workflow loads the campaign's program, as a
// local activity, once; workflows launched before carry it in their input
// and never load it. Both run the same transition.
func TestProgramComesFromTheInputOrTheCampaign(t *testing.T) {
	for _, c := range []struct {
		name    string
		inInput bool
		loads   int
	}{
		{"loaded by campaign", false, 1},
		{"carried by the input", true, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, loadExample(t, "vmware-2009"), "Enterprise", program.Facts{})
			if c.inInput {
				h.in.Program = h.prog
			}
			var mu sync.Mutex
			var local []string
			h.env.SetOnLocalActivityStartedListener(func(info *activity.Info, _ context.Context, _ []any) {
				mu.Lock()
				defer mu.Unlock()
				local = append(local, info.ActivityType.Name)
			})
			r := h.run()
			if n := strings.Count(strings.Join(local, " "), contract.LoadProgram.Name()); h.be.programLoads != c.loads || n != c.loads {
				t.Fatalf("program loaded %d times, %d as a local activity; want %d", h.be.programLoads, n, c.loads)
			}
			want := []string{"announcement"}
			for _, r := range h.prog.Reminders {
				want = append(want, fmt.Sprintf("reminder/%s/r0", r))
			}
			want = append(want, "outcome")
			if got := h.be.steps(); !slices.Equal(got, want) || r.Outcome != "demoted" || !h.env.Now().Equal(h.deadline()) {
				t.Fatalf("emails %v, result %+v at %v", got, r, h.env.Now())
			}
		})
	}
}

// TestAWorkflowWithoutItsProgramFailsClearly: a campaign with no stored
// program, or another program than the one launched, fails the workflow at
// once with an error that says so; nothing is retried, read or sent.
func TestAWorkflowWithoutItsProgramFailsClearly(t *testing.T) {
	other := program.Program{ID: "other"}
	for _, c := range []struct {
		name     string
		stored   *program.Program
		errType  string
		mentions string
	}{
		{"no stored program", nil, contract.ErrTypeNoProgram, "has no stored program"},
		{"another program", &other, contract.ErrTypeInvalidInput, `runs program "other", not "vmware-2009"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, loadExample(t, "vmware-2009"), "Enterprise", program.Facts{})
			h.be.program = c.stored
			h.env.ExecuteWorkflow(WorkflowName, h.in)
			err := h.env.GetWorkflowError()
			var appErr *temporal.ApplicationError
			if !h.env.IsWorkflowCompleted() || !errors.As(err, &appErr) || appErr.Type() != c.errType ||
				!appErr.NonRetryable() || !strings.Contains(err.Error(), c.mentions) {
				t.Fatalf("workflow error %v; want a non-retryable %s error mentioning %q", err, c.errType, c.mentions)
			}
			if h.be.programLoads != 1 || len(h.be.loads) != 0 || len(h.be.stages) != 0 || len(h.be.emails) != 0 {
				t.Fatalf("%d program loads, %d partner loads, %d stage updates, %d emails; want one load and nothing else",
					h.be.programLoads, len(h.be.loads), len(h.be.stages), len(h.be.emails))
			}
		})
	}
}

// TestAnUpdateWhileTheProgramLoadsWaitsForIt: the handlers are registered
// before the program is loaded, so an Update delivered with the first
// workflow task is not rejected as unknown: it waits for the program, is
// validated against it, then applied (or refused).
func TestAnUpdateWhileTheProgramLoadsWaitsForIt(t *testing.T) {
	h := newHarness(t, loadExample(t, "vmware-2009"), "Enterprise", program.Facts{})
	var ext, bad *updateResult
	h.be.onLoadProgram = func() {
		ext = h.update(MessageExtend, "early", ExtendDeadline{ID: "early", By: program.Duration{Days: 30}, Reason: "late start"})
		bad = h.update(MessageExempt, "early-bad", Exempt{Reason: "x", Tier: "Diamond"})
	}
	r := h.run()
	newDeadline := h.deadline().AddDate(0, 0, 30)
	if st := ext.accepted(t, "extend sent while the program loads"); !st.Deadline.Equal(newDeadline) {
		t.Fatalf("extend answered deadline %v, want %v", st.Deadline, newDeadline)
	}
	if !bad.done || bad.err == nil || !strings.Contains(bad.err.Error(), "not a tier") {
		t.Fatalf("exempt to an unknown tier while the program loads: handled %v, error %v", bad.done, bad.err)
	}
	if r.Outcome != "demoted" || !h.env.Now().Equal(newDeadline) {
		t.Fatalf("result %+v at %v; want demoted at the extended deadline %v", r, h.env.Now(), newDeadline)
	}
}

// TestUndeliveredEmailIsShown: SendGrid's bounce of the announcement,
// signalled by the Event Webhook, is kept in the state once per step (a
// replayed event or a second bounce of the same email changes nothing) and
// shown as EmailUndelivered, which is never set while every email arrived.
func TestUndeliveredEmailIsShown(t *testing.T) {
	h := newHarness(t, loadExample(t, "vmware-2009"), "Enterprise", program.Facts{})
	var undelivered []time.Time
	h.env.OnUpsertTypedSearchAttributes(mock.Anything).Run(func(args mock.Arguments) {
		if v, ok := args.Get(0).(temporal.SearchAttributes).GetBool(EmailUndeliveredKey); ok {
			if !v {
				t.Errorf("EmailUndelivered set to false at %v", h.env.Now())
			}
			undelivered = append(undelivered, h.env.Now())
		}
	}).Return(nil)
	bounceAt := launch.AddDate(0, 0, 1)
	bounce := EmailUndelivered{ID: "delivery/e1", Step: "announcement", Kind: "announcement", Event: "bounce", Reason: "550 unknown user", At: bounceAt}
	var mid Status
	h.at(h.until(bounceAt), func() { h.env.SignalWorkflow(MessageEmailUndelivered, bounce) })
	h.at(h.until(bounceAt.Add(time.Hour)), func() {
		h.env.SignalWorkflow(MessageEmailUndelivered, bounce) // replayed event
		second := bounce
		second.ID, second.Event = "delivery/e2", "dropped"
		h.env.SignalWorkflow(MessageEmailUndelivered, second) // the same email again
		h.env.SignalWorkflow(MessageEmailUndelivered, EmailUndelivered{ID: "delivery/e3", Step: "x", Event: "delivered"})
	})
	h.at(h.until(bounceAt.Add(2*time.Hour)), func() { mid = h.query() })
	h.run()
	if len(undelivered) != 1 || !undelivered[0].Equal(bounceAt) {
		t.Errorf("EmailUndelivered upserted at %v, want once at %v", undelivered, bounceAt)
	}
	if len(mid.Undelivered) != 1 || mid.Undelivered[0].Event != "bounce" || mid.Undelivered[0].Reason != "550 unknown user" {
		t.Errorf("status undelivered = %+v", mid.Undelivered)
	}
}
