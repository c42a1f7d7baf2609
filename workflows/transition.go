package workflows

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"time"

	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/tiershift/tiershift/activities/contract"
	"github.com/tiershift/tiershift/config"
	"github.com/tiershift/tiershift/email"
	"github.com/tiershift/tiershift/program"
	"github.com/tiershift/tiershift/zones"
)

// seenMessagesKept bounds the duplicate-detection memory carried in state.
const seenMessagesKept = 64

// PartnerTransition carries one partner from the old program to the new one.
// It reads like the business process: wait for the launch, announce, remind
// while something is missing, then decide at the deadline.
func PartnerTransition(ctx workflow.Context, in TransitionInput) (Result, error) {
	t, err := newTransition(ctx, in)
	if err != nil {
		return Result{}, err
	}
	if err := t.registerHandlers(ctx); err != nil {
		return Result{}, err
	}
	if err := t.loadProgram(ctx); err != nil {
		return Result{}, err
	}
	if err := t.show(ctx); err != nil {
		return Result{}, err
	}

	if !t.s.Announced {
		if done, err := t.waitForLaunch(ctx); done || err != nil {
			return t.continueOrFail(ctx, err)
		}
		if t.s.Ending == nil {
			t.announce(ctx)
		}
	}

	for t.s.Ending == nil {
		t.handlePending(ctx)
		if t.s.Ending != nil {
			break
		}
		now := workflow.Now(ctx)
		if !now.Before(t.s.Deadline) {
			break
		}
		if due := t.dueReminders(now); len(due) > 0 {
			t.remind(ctx, due)
			continue
		}
		if t.shouldContinueAsNew(ctx) {
			return t.continueOrFail(ctx, nil)
		}
		wake, what := t.nextWake(now)
		if _, err := workflow.AwaitWithOptions(ctx, workflow.AwaitOptions{
			Timeout:      wake.Sub(now),
			TimerOptions: workflow.TimerOptions{Summary: what},
		}, t.hasPending); err != nil {
			return Result{}, err
		}
	}

	if t.s.Ending != nil {
		t.end(ctx)
	} else {
		t.decide(ctx)
	}
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
		return Result{}, err
	}
	return t.result(), nil
}

// transition is one run of the workflow: the input, the program's rules for
// this partner, and the durable state. prog, rule and s are set together,
// once the program is known (ready).
type transition struct {
	in   TransitionInput
	prog *program.Program
	rule program.Transition
	// tracks is the program's tracks, each seen as a program, for a
	// program with tracks (tracks.go); nil otherwise.
	tracks []program.TrackProgram
	s      *State
	log    log.Logger
	id     string
	// receivers read the Signals of each message type, in registration order.
	receivers []signalReceiver
}

func newTransition(ctx workflow.Context, in TransitionInput) (*transition, error) {
	if err := in.Validate(); err != nil {
		return nil, invalidInput(err)
	}
	t := &transition{
		in:  in,
		id:  workflow.GetInfo(ctx).WorkflowExecution.ID,
		log: log.With(workflow.GetLogger(ctx), "campaign_id", in.CampaignID, "partner_id", in.PartnerID),
	}
	if in.Program != nil {
		return t, t.start(ctx, internProgram(in.Program))
	}
	return t, nil
}

// loadProgram reads the campaign's program from Postgres when the input does
// not carry it, as a local activity (the worker caches it per campaign), and
// starts the run with it. A campaign without a stored program fails the
// workflow: no retry can give it one.
func (t *transition) loadProgram(ctx workflow.Context) error {
	if t.ready() {
		return nil
	}
	prog, err := contract.LoadProgram.ExecuteLocal(storeLocalOptions(ctx),
		contract.CampaignRef{CampaignID: t.in.CampaignID}).Get(ctx)
	if err != nil {
		// Postgres errors are retried without end: what arrives here is
		// permanent (NoProgram).
		return temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("load the program of campaign %s: %v", t.in.CampaignID, err), contract.ErrTypeNoProgram, err)
	}
	return t.start(ctx, internProgram(prog))
}

// ready reports whether the run has its program, and so its rules and state.
// Only messages that arrive in the first workflow task, while the program
// loads, find it not ready.
func (t *transition) ready() bool { return t.prog != nil }

// start sets the run's program, its rule for the partner's old tier, and its
// state: the one carried across continue-as-new, or a new one.
func (t *transition) start(ctx workflow.Context, prog *program.Program) error {
	if prog.HasTracks() {
		return t.startTracks(ctx, prog)
	}
	if err := t.in.checkProgram(prog); err != nil {
		return invalidInput(err)
	}
	rule, _ := prog.Transition(t.in.OldTier)
	var s State
	if t.in.State != nil {
		s = *t.in.State
		s.Runs++
	} else {
		deadline, err := prog.Deadline(t.in.OldTier, t.in.LaunchAt)
		if err != nil {
			return invalidInput(err)
		}
		zone := ""
		if workflow.GetVersion(ctx, changeTimeZones, workflow.DefaultVersion, 1) == 1 {
			zone = cmp.Or(prog.TimeZone, zones.UTC)
			deadline = zonedDeadline(ctx, zone, rule.Grace, t.in.LaunchAt)
		}
		s = State{
			TimeZone:    zone,
			Stage:       StageWaitingLaunch,
			Deadline:    deadline,
			CurrentTier: t.in.OldTier,
			Evaluation:  program.Evaluation{OldTier: t.in.OldTier, ExpectedTier: rule.Expect},
		}
	}
	t.prog, t.rule, t.s = prog, rule, &s
	return nil
}

// zonedDeadline is grace counted from from under the end-of-day rule in
// zone (program.Duration.EndOfDayFrom).
func zonedDeadline(ctx workflow.Context, zone string, grace program.Duration, from time.Time) time.Time {
	return inZone(ctx, zone, grace.AddTo(from), func(loc *time.Location) time.Time { return grace.EndOfDayFrom(from, loc) })
}

// inZone computes a deadline in zone once, in a SideEffect: the zone's
// rules come from the worker's zone database, and a replay on a worker
// whose database differs must find the same instant. fallback is the UTC
// arithmetic, for a zone the database has lost since the program was
// checked.
func inZone(ctx workflow.Context, zone string, fallback time.Time, f func(*time.Location) time.Time) time.Time {
	var at time.Time
	err := workflow.SideEffect(ctx, func(workflow.Context) any {
		loc, err := zones.Load(zone)
		if err != nil {
			return fallback
		}
		return f(loc)
	}).Get(&at)
	if err != nil {
		return fallback
	}
	return at
}

// invalidInput fails the workflow: nothing in it can be retried into working.
func invalidInput(err error) error {
	return temporal.NewNonRetryableApplicationError(err.Error(), contract.ErrTypeInvalidInput, err)
}

// waitForLaunch sleeps until the campaign's launch date, still answering
// messages. It reports done when the run should continue as new instead.
func (t *transition) waitForLaunch(ctx workflow.Context) (done bool, err error) {
	for t.s.Ending == nil {
		now := workflow.Now(ctx)
		if !now.Before(t.in.LaunchAt) {
			return false, nil
		}
		// Before the announcement there is nothing to re-evaluate or tell:
		// the announcement reads fresh facts and shows the current deadline.
		t.s.FactsProcessed = t.s.FactsRequested
		t.s.PendingExtensionNotices = nil
		if t.shouldContinueAsNew(ctx) {
			return true, nil
		}
		if _, err := workflow.AwaitWithOptions(ctx, workflow.AwaitOptions{
			Timeout:      t.in.LaunchAt.Sub(now),
			TimerOptions: workflow.TimerOptions{Summary: "campaign launch"},
		}, t.hasPending); err != nil {
			return false, err
		}
	}
	return false, nil
}

// announce tells the partner about the new program, its expected tier, its
// deadline and what it misses today.
func (t *transition) announce(ctx workflow.Context) {
	t.evaluate(ctx)
	t.s.Announced = true
	t.s.RemindersFrom = workflow.Now(ctx)
	t.s.Stage = StageNotified
	if t.s.Evaluation.MeetsExpected {
		// The announcement itself says the partner already qualifies.
		t.s.Stage = StageQualified
		t.s.QualifiedNoticeSent = true
		t.applyEarlyTier(ctx)
	}
	t.sendEmail(ctx, email.KindAnnouncement, "announcement", nil)
	t.record(ctx)
	t.showIfVersioned(ctx)
}

// handlePending processes what messages asked for: a re-read of the facts,
// extension notices.
func (t *transition) handlePending(ctx workflow.Context) {
	if t.s.FactsProcessed < t.s.FactsRequested {
		target := t.s.FactsRequested
		t.reevaluate(ctx)
		t.s.FactsProcessed = target
	}
	for len(t.s.PendingExtensionNotices) > 0 {
		i := t.s.PendingExtensionNotices[0]
		t.s.PendingExtensionNotices = t.s.PendingExtensionNotices[1:]
		if workflow.GetVersion(ctx, changeNotifyExtension, workflow.DefaultVersion, 1) == 1 {
			ext := t.s.Extensions[i]
			t.sendEmail(ctx, email.KindExtended, fmt.Sprintf("extended/r%d", ext.Revision), &ext)
		}
		t.record(ctx)
		t.showIfVersioned(ctx)
	}
}

// reevaluate re-reads the partner's facts and reacts: a partner that now
// meets its expected tier is told so, once.
func (t *transition) reevaluate(ctx workflow.Context) {
	before := t.s.Evaluation
	t.evaluate(ctx)
	ev := t.s.Evaluation
	switch {
	case ev.MeetsExpected && !t.s.QualifiedNoticeSent:
		t.s.QualifiedNoticeSent = true
		t.s.Stage = StageQualified
		t.applyEarlyTier(ctx)
		t.sendEmail(ctx, email.KindQualified, "qualified", nil)
	case ev.MeetsExpected:
		t.s.Stage = StageQualified
	case t.s.Stage == StageQualified:
		t.s.Stage = StageNotified
		if t.remindersSent() > 0 {
			t.s.Stage = StageReminding
		}
	}
	if !slices.EqualFunc(before.Missing, ev.Missing, sameMissing) || before.MeetsExpected != ev.MeetsExpected {
		t.record(ctx)
	}
	_ = t.show(ctx)
}

// evaluate loads the partner's facts from Postgres and applies the rules.
func (t *transition) evaluate(ctx workflow.Context) {
	snap, err := storeCall(ctx, t, contract.LoadPartner,
		contract.PartnerRef{CampaignID: t.in.CampaignID, PartnerID: t.in.PartnerID}).Get(ctx)
	if err != nil {
		// Postgres errors are retried without limit; what arrives here is
		// permanent (the partner is gone). Keep the last known facts.
		t.log.Error("load partner failed; keeping last known facts", "error", err)
	} else {
		t.s.Partner = snap
	}
	if t.tracks != nil {
		t.evaluateTracks()
		return
	}
	ev, err := t.prog.Evaluate(t.in.OldTier, t.s.Partner.Facts)
	if err != nil {
		t.log.Error("evaluate partner", "error", err)
		return
	}
	t.s.Evaluation = ev
}

// applyEarlyTier grants the expected tier at once when the program says a
// qualifying partner need not wait for its deadline.
func (t *transition) applyEarlyTier(ctx workflow.Context) {
	if t.tracks != nil {
		t.applyEarlyTracks(ctx)
		return
	}
	if t.prog.ApplyAt != program.ApplyAtQualification || t.s.EarlyTierApplied {
		return
	}
	t.s.EarlyTierApplied = true
	t.changeTier(ctx, "qualified", t.s.Evaluation.ExpectedTier, "qualified", "met the requirements before the deadline", "workflow")
}

// reminderSlot is one reminder offset applied to the current deadline.
type reminderSlot struct {
	offset program.Duration
	at     time.Time
	step   string
}

// slots lists the current deadline's reminder times, earliest first.
func (t *transition) slots() []reminderSlot {
	var out []reminderSlot
	for _, r := range t.prog.Reminders {
		at := r.SubFrom(t.s.Deadline)
		if at.Before(t.s.RemindersFrom) {
			continue
		}
		out = append(out, reminderSlot{offset: r, at: at, step: fmt.Sprintf("reminder/%s/r%d", r, t.s.DeadlineRevision)})
	}
	slices.SortStableFunc(out, func(a, b reminderSlot) int { return a.at.Compare(b.at) })
	return out
}

func (t *transition) reminderDone(step string) bool {
	return slices.ContainsFunc(t.s.Reminders, func(r ReminderRecord) bool { return r.Step == step })
}

// dueReminders are the slots whose time has come and that were not handled.
func (t *transition) dueReminders(now time.Time) []reminderSlot {
	var due []reminderSlot
	for _, sl := range t.slots() {
		if !sl.at.After(now) && !t.reminderDone(sl.step) {
			due = append(due, sl)
		}
	}
	return due
}

// remind handles due reminder slots: only the latest is sent (a worker that
// was down for days does not send a burst), and only if something is missing.
func (t *transition) remind(ctx workflow.Context, due []reminderSlot) {
	now := workflow.Now(ctx)
	for _, sl := range due[:len(due)-1] {
		t.s.Reminders = append(t.s.Reminders, ReminderRecord{Step: sl.step, Offset: sl.offset, At: now, Skipped: "superseded by a later reminder"})
	}
	sl := due[len(due)-1]
	t.reevaluate(ctx)
	rec := ReminderRecord{Step: sl.step, Offset: sl.offset, At: now}
	if t.s.Evaluation.MeetsExpected {
		rec.Skipped = "partner already meets its expected tier"
		t.s.Reminders = append(t.s.Reminders, rec)
		return
	}
	rec.Sent = t.sendEmail(ctx, email.KindReminder, sl.step, nil)
	t.s.Reminders = append(t.s.Reminders, rec)
	t.s.Stage = StageReminding
	t.record(ctx)
	_ = t.show(ctx)
}

// nextWake is the next moment the workflow must act without a message.
func (t *transition) nextWake(now time.Time) (time.Time, string) {
	for _, sl := range t.slots() {
		if sl.at.After(now) && !t.reminderDone(sl.step) {
			return sl.at, "reminder " + sl.offset.String() + " before deadline"
		}
	}
	return t.s.Deadline, "deadline"
}

func (t *transition) hasPending() bool {
	return t.s.Ending != nil || t.s.FactsProcessed < t.s.FactsRequested || len(t.s.PendingExtensionNotices) > 0
}

// decide applies the outcome at the deadline with the freshest facts.
func (t *transition) decide(ctx workflow.Context) {
	if t.tracks != nil {
		t.decideTracks(ctx)
		return
	}
	t.s.Stage = StageDeciding
	t.showDeciding(ctx)
	t.evaluate(ctx)
	ev := t.s.Evaluation
	t.changeTier(ctx, "outcome", ev.NewTier, string(ev.Outcome), "deadline reached", "workflow")
	t.s.Outcome = string(ev.Outcome)
	t.s.NewTier = ev.NewTier
	t.sendEmail(ctx, email.KindOutcome, "outcome", nil)
	t.s.Stage = StageDone
	t.record(ctx)
	_ = t.show(ctx)
}

// end records an operator's exemption or withdrawal.
func (t *transition) end(ctx workflow.Context) {
	if t.tracks != nil {
		t.endTracks(ctx)
		return
	}
	e := t.s.Ending
	to := t.s.CurrentTier
	if e.Outcome == OutcomeExempted {
		to = e.Tier
		if to == "" {
			to = t.s.Evaluation.ExpectedTier
		}
	}
	t.changeTier(ctx, e.Outcome, to, e.Outcome, e.Reason, e.Actor)
	t.s.Outcome = e.Outcome
	t.s.NewTier = to
	t.s.Stage = StageDone
	t.record(ctx)
	_ = t.show(ctx)
}

// changeTier writes a tier change and its audit row, once per step.
func (t *transition) changeTier(ctx workflow.Context, step, to, outcome, reason, actor string) {
	if t.applyChange(ctx, t.tierChange(step, t.s.CurrentTier, to, outcome, reason, actor)) {
		t.s.CurrentTier = to
	}
}

// tierChange is this partner's change at step from one tier to another.
func (t *transition) tierChange(step, from, to, outcome, reason, actor string) contract.TierChange {
	return contract.TierChange{
		WorkflowID: t.id, Step: step, CampaignID: t.in.CampaignID, PartnerID: t.in.PartnerID,
		FromTier: from, ToTier: to, Outcome: outcome, Reason: reason, Actor: actor,
	}
}

// applyChange runs ApplyTierChange; it reports whether the change is in
// Postgres (now or by an earlier attempt).
func (t *transition) applyChange(ctx workflow.Context, change contract.TierChange) bool {
	res, err := storeCall(ctx, t, contract.ApplyTierChange, change).Get(ctx)
	if err != nil {
		t.log.Error("apply tier change failed", "step", change.Step, "track", change.Track, "error", err)
		return false
	}
	t.log.Info("tier changed", "step", change.Step, "track", change.Track, "from", change.FromTier, "to", change.ToTier,
		"outcome", change.Outcome, "applied", res.Applied)
	return true
}

// sendEmail asks the email worker to send one message; it reports whether
// the message went out (or was captured). A failure is recorded, never fatal.
func (t *transition) sendEmail(ctx workflow.Context, kind email.Kind, step string, ext *Extension) bool {
	data := email.DataFor(t.prog, t.in.CampaignID, t.in.PartnerID, t.s.Partner.Name, t.s.Evaluation, t.s.Deadline, workflow.Now(ctx))
	if t.tracks != nil {
		data = email.DataForTracks(t.prog, t.in.CampaignID, t.in.PartnerID, t.s.Partner.Name, t.s.Tracks, t.s.Deadline, workflow.Now(ctx))
	} else if kind == email.KindQualified {
		data.NewTier = t.s.Evaluation.ExpectedTier
	}
	if ext != nil {
		data.PreviousDeadline = ext.From
	}
	if t.s.TimeZone != "" {
		data.TimeZone = zones.ForPartner(t.s.Partner.TimeZone, t.s.Partner.Country, t.s.TimeZone)
	}
	in := contract.SendEmailInput{
		WorkflowID: t.id, Step: step, CampaignID: t.in.CampaignID, PartnerID: t.in.PartnerID,
		Kind: kind, To: t.s.Partner.Email, ToName: t.s.Partner.Name, Locale: t.locale(),
		Data: data, Settings: t.prog.Emails, CalendarSequence: t.s.DeadlineRevision,
	}
	res, err := contract.SendEmail.Execute(emailOptions(ctx, t.emailQueue, kind), in).Get(ctx)
	switch {
	case err != nil:
		t.log.Error("email not sent", "kind", kind, "step", step, "error", err)
		t.s.EmailFailures = append(t.s.EmailFailures, step)
		return false
	case res.Status == contract.EmailFailed:
		t.log.Warn("email rejected", "kind", kind, "step", step, "reason", res.Error)
		t.s.EmailFailures = append(t.s.EmailFailures, step)
		return false
	}
	t.s.EmailsSent++
	return true
}

// emailQueue is the task queue of the rate-limited email workers.
func (t *transition) emailQueue(ctx workflow.Context) string {
	if t.in.EmailTaskQueue != "" {
		return t.in.EmailTaskQueue
	}
	return config.EmailQueueFor(workflow.GetInfo(ctx).TaskQueueName)
}

// locale picks the partner's language when the program has it.
func (t *transition) locale() string {
	if slices.Contains(t.prog.Emails.Locales, t.s.Partner.Locale) {
		return t.s.Partner.Locale
	}
	return t.prog.Emails.DefaultLocale
}

// record mirrors the state into the partner's enrollment row.
func (t *transition) record(ctx workflow.Context) {
	t.s.Seq++
	ev := t.s.Evaluation
	u := contract.StageUpdate{
		WorkflowID: t.id, CampaignID: t.in.CampaignID, PartnerID: t.in.PartnerID,
		Stage: string(t.s.Stage), OldTier: t.in.OldTier, ExpectedTier: ev.ExpectedTier,
		CurrentTier: t.s.CurrentTier, Deadline: t.s.Deadline, Missing: ev.Missing,
		RemindersSent: t.remindersSent(), Outcome: t.s.Outcome, NewTier: t.s.NewTier,
		EmailFailed: len(t.s.EmailFailures) > 0, Seq: t.s.Seq,
	}
	if err := storeProc(ctx, t, contract.RecordStage, u).Get(ctx); err != nil {
		t.log.Error("record stage failed", "stage", t.s.Stage, "error", err)
	}
}

func (t *transition) remindersSent() int {
	n := 0
	for _, r := range t.s.Reminders {
		if r.Sent {
			n++
		}
	}
	return n
}

func (t *transition) result() Result {
	return Result{
		Outcome: t.s.Outcome, OldTier: t.in.OldTier, NewTier: t.s.NewTier,
		EmailsSent: t.s.EmailsSent, EmailFailed: len(t.s.EmailFailures) > 0, Tracks: t.s.TrackResults,
	}
}

func (t *transition) status(now time.Time) Status {
	ev := t.s.Evaluation
	st := Status{
		CampaignID: t.in.CampaignID, PartnerID: t.in.PartnerID, Stage: t.s.Stage,
		OldTier: t.in.OldTier, ExpectedTier: ev.ExpectedTier, CurrentTier: t.s.CurrentTier,
		Deadline: t.s.Deadline, MeetsExpected: ev.MeetsExpected, Missing: ev.Missing,
		RemindersSent: t.remindersSent(), Reminders: t.s.Reminders, Extensions: t.s.Extensions,
		EmailFailures: t.s.EmailFailures, Undelivered: t.s.Undelivered, Outcome: t.s.Outcome, NewTier: t.s.NewTier, Runs: t.s.Runs,
		Tracks: t.s.Tracks, TrackResults: t.s.TrackResults,
	}
	if t.s.Stage != StageDone && t.s.Stage != StageDeciding {
		for _, sl := range t.slots() {
			if sl.at.After(now) && !t.reminderDone(sl.step) {
				at := sl.at
				st.NextReminder = &at
				break
			}
		}
	}
	return st
}

func sameMissing(a, b program.Missing) bool {
	return a.Kind == b.Kind && a.Name == b.Name && a.Have == b.Have && a.Need == b.Need && slices.Equal(a.Options, b.Options)
}

// errStarting answers a status Query that comes before the run has loaded
// its program.
var errStarting = errors.New("the transition is starting (loading its campaign's program); ask again in a moment")

// errDecided rejects messages once the outcome is being decided or applied.
var errDecided = errors.New("the transition is already being decided or is finished; nothing can change it now")
