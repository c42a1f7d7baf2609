package workflows

import (
	"fmt"
	"strings"
	"time"

	"github.com/tiershift/tiershift/activities/contract"
	"github.com/tiershift/tiershift/ids"
	"github.com/tiershift/tiershift/program"
)

// Names the workflow is known by in Temporal. Operators and outside systems
// (an LMS reporting a certification) use the message names directly.
const (
	// WorkflowName is the registered workflow type.
	WorkflowName = "PartnerTransition"

	// QueryStatus returns a Status.
	QueryStatus = "status"

	// MessageFacts says the partner's facts changed in Postgres (an Update and
	// a Signal of the same name): the workflow re-reads and re-evaluates at once.
	MessageFacts = "facts"
	// MessageExtend moves the deadline (Update and Signal, the latter for
	// cohort batch operations).
	MessageExtend = "extend"
	// MessageExempt ends the transition granting a tier without requirements.
	MessageExempt = "exempt"
	// MessageWithdraw ends the transition: the partner leaves the program.
	MessageWithdraw = "withdraw"
	// MessageEmailUndelivered says SendGrid bounced or dropped one of the
	// transition's emails (a Signal from the Event Webhook, and an Update).
	MessageEmailUndelivered = "email-undelivered"
)

// WorkflowID is the deterministic ID of a partner's transition
// (ids.WorkflowID). Launching a campaign twice therefore cannot start a
// second workflow for a partner, and since IDs have no '/' two different
// (campaign, partner) pairs never share one.
func WorkflowID(campaignID, partnerID string) string {
	return ids.WorkflowID(campaignID, partnerID)
}

// Stage is where a transition is in its life. It is also the Stage search
// attribute, so operators filter on these exact words.
type Stage string

const (
	StageWaitingLaunch Stage = "waiting-launch"
	StageNotified      Stage = "notified"
	StageReminding     Stage = "reminding"
	StageQualified     Stage = "qualified"
	// StageDeciding is the status Query's and the details' while the
	// outcome is applied; only runs from before showQuietDeciding show it
	// in the Stage search attribute.
	StageDeciding Stage = "deciding"
	StageDone     Stage = "done"
)

// Outcomes beyond program's promoted, kept and demoted.
const (
	OutcomeExempted  = "exempted"
	OutcomeWithdrawn = "withdrawn"
)

// TransitionInput starts (or continues) one partner's transition.
type TransitionInput struct {
	CampaignID string    `json:"campaign_id"`
	PartnerID  string    `json:"partner_id"`
	OldTier    string    `json:"old_tier"`
	LaunchAt   time.Time `json:"launch_at"`
	// TrackLevels is the partner's level in each track of a program with
	// tracks (partners.tracks, read by the launcher); every track it holds
	// is decided at the deadline. Empty for a program without tracks.
	TrackLevels []program.TrackLevel `json:"track_levels,omitempty"`
	// ProgramID is the ID of the campaign's program; when set, a run whose
	// program says otherwise fails instead of running the wrong rules.
	ProgramID string `json:"program_id,omitempty"`
	// Program is nil for transitions started by `starter launch` and for
	// continued runs: the workflow loads the program stored with the
	// campaign (LoadProgram), which keeps every start small. Transitions
	// launched before carry it here and run with it.
	Program *program.Program `json:"program,omitempty"`
	// EmailTaskQueue is where SendEmail runs (rate-limited workers); empty
	// means config.EmailQueueFor(the workflow's task queue).
	EmailTaskQueue string `json:"email_task_queue,omitempty"`
	// State is nil on the first run and carries everything across
	// continue-as-new.
	State *State `json:"state,omitempty"`
}

// Validate rejects an input the workflow could never run, before it starts.
func (in TransitionInput) Validate() error {
	var problems []string
	if in.CampaignID == "" {
		problems = append(problems, "campaign ID is empty")
	}
	if in.PartnerID == "" {
		problems = append(problems, "partner ID is empty")
	}
	if in.LaunchAt.IsZero() {
		problems = append(problems, "launch date is not set")
	}
	if in.Program != nil {
		if err := in.checkProgram(in.Program); err != nil {
			problems = append(problems, err.Error())
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("transition input: %s", strings.Join(problems, "; "))
	}
	return nil
}

// checkProgram rejects a program this transition cannot run: another
// program than the one it was started for, or one without a transition for
// its old tier.
func (in TransitionInput) checkProgram(p *program.Program) error {
	if in.ProgramID != "" && p.ID != in.ProgramID {
		return fmt.Errorf("campaign %s runs program %q, not %q", in.CampaignID, p.ID, in.ProgramID)
	}
	if p.HasTracks() {
		return in.checkTrackLevels(p)
	}
	if _, ok := p.Transition(in.OldTier); !ok {
		return fmt.Errorf("old tier %q has no transition in program %s", in.OldTier, p.ID)
	}
	return nil
}

// State is a transition's durable state: everything a continued run needs.
type State struct {
	Stage       Stage     `json:"stage"`
	Announced   bool      `json:"announced"`
	Deadline    time.Time `json:"deadline"`
	CurrentTier string    `json:"current_tier"`
	// DeadlineRevision counts extensions; reminder steps include it so the
	// reminders of a moved deadline are new messages, not duplicates.
	DeadlineRevision int `json:"deadline_revision"`
	// RemindersFrom is when the current deadline was set: reminders due
	// before it are skipped rather than sent late in a burst.
	RemindersFrom time.Time                `json:"reminders_from"`
	Partner       contract.PartnerSnapshot `json:"partner"`
	Evaluation    program.Evaluation       `json:"evaluation"`
	// QualifiedNoticeSent is set once the partner was told it meets its tier.
	QualifiedNoticeSent bool `json:"qualified_notice_sent"`
	// EarlyTierApplied is set when apply_at: qualification granted the tier.
	EarlyTierApplied bool             `json:"early_tier_applied"`
	Reminders        []ReminderRecord `json:"reminders,omitempty"`
	Extensions       []Extension      `json:"extensions,omitempty"`
	// PendingExtensionNotices are extensions not yet emailed.
	PendingExtensionNotices []int `json:"pending_extension_notices,omitempty"`
	// FactsRequested and FactsProcessed count facts messages; the loop
	// re-reads the partner while Processed < Requested.
	FactsRequested int64 `json:"facts_requested"`
	FactsProcessed int64 `json:"facts_processed"`
	// SeenMessageIDs remembers recent message IDs so a duplicate is a no-op.
	SeenMessageIDs []string `json:"seen_message_ids,omitempty"`
	Ending         *Ending  `json:"ending,omitempty"`
	EmailFailures  []string `json:"email_failures,omitempty"`
	EmailsSent     int      `json:"emails_sent"`
	Outcome        string   `json:"outcome,omitempty"`
	NewTier        string   `json:"new_tier,omitempty"`
	// Seq orders the enrollment updates this workflow writes, so a late
	// retry of an old update never overwrites a newer one.
	Seq int64 `json:"seq"`
	// Runs counts continue-as-new generations, for operators.
	Runs int `json:"runs"`
	// Shown is what the search attributes say now; only changes are upserted.
	Shown *Visible `json:"shown,omitempty"`
	// Undelivered lists the emails SendGrid bounced or dropped, one per step.
	Undelivered []EmailUndelivered `json:"undelivered,omitempty"`

	// The rest is for programs with tracks only (tracks.go), omitted
	// otherwise so that other runs' state reads as before.

	// Tracks is the latest evaluation of each track the partner holds.
	Tracks []program.TrackEvaluation `json:"tracks,omitempty"`
	// TrackTiers is the partner's level in each track now.
	TrackTiers []program.TrackLevel `json:"track_tiers,omitempty"`
	// TrackResults is each track's decision, once decided.
	TrackResults []TrackResult `json:"track_results,omitempty"`
	// TimeZone is the program's zone ("UTC" when it names none) for runs
	// begun with time zones (changeTimeZones); empty for runs begun before,
	// which keep their UTC arithmetic and dates.
	TimeZone string `json:"time_zone,omitempty"`
}

// ReminderRecord is one reminder slot that came due.
type ReminderRecord struct {
	Step   string           `json:"step"`
	Offset program.Duration `json:"offset"`
	At     time.Time        `json:"at"`
	// Sent is false when the partner already qualified (no email) or the
	// slot was superseded by a later one.
	Sent    bool   `json:"sent"`
	Skipped string `json:"skipped,omitempty"`
}

// Extension is one deadline extension.
type Extension struct {
	ID       string           `json:"id,omitempty"`
	By       program.Duration `json:"by"`
	From     time.Time        `json:"from"`
	To       time.Time        `json:"to"`
	Reason   string           `json:"reason,omitempty"`
	Actor    string           `json:"actor,omitempty"`
	Revision int              `json:"revision"`
}

// Ending is an operator's decision to end the transition early.
type Ending struct {
	Outcome string `json:"outcome"`
	Tier    string `json:"tier,omitempty"`
	Reason  string `json:"reason,omitempty"`
	Actor   string `json:"actor,omitempty"`
}

// FactsChanged tells the workflow that the partner's facts changed in
// Postgres (the system of record). Change, when set, is validated against the
// program and logged; the workflow always re-reads the stored facts.
type FactsChanged struct {
	ID     string              `json:"id,omitempty"`
	Change *program.FactChange `json:"change,omitempty"`
	Actor  string              `json:"actor,omitempty"`
}

// ExtendDeadline moves the deadline later by By.
type ExtendDeadline struct {
	ID     string           `json:"id,omitempty"`
	By     program.Duration `json:"by"`
	Reason string           `json:"reason,omitempty"`
	Actor  string           `json:"actor,omitempty"`
}

// Exempt ends the transition granting Tier (default: the expected tier).
type Exempt struct {
	ID     string `json:"id,omitempty"`
	Tier   string `json:"tier,omitempty"`
	Reason string `json:"reason"`
	Actor  string `json:"actor,omitempty"`
}

// EmailUndelivered is SendGrid's word that one of the transition's emails
// never reached the partner: a bounce or a drop, from the Event Webhook.
type EmailUndelivered struct {
	// ID is "delivery/<sg_event_id>", so a replayed event is a no-op.
	ID   string `json:"id,omitempty"`
	Step string `json:"step"`
	Kind string `json:"kind"`
	// Event is "bounce" or "dropped"; Reason is SendGrid's explanation.
	Event  string    `json:"event"`
	Reason string    `json:"reason,omitempty"`
	At     time.Time `json:"at"`
}

// Withdraw ends the transition without a tier change.
type Withdraw struct {
	ID     string `json:"id,omitempty"`
	Reason string `json:"reason"`
	Actor  string `json:"actor,omitempty"`
}

// Status is what the status Query returns: enough for an operator to answer
// "where is this partner and what does it still need".
type Status struct {
	CampaignID    string            `json:"campaign_id"`
	PartnerID     string            `json:"partner_id"`
	Stage         Stage             `json:"stage"`
	OldTier       string            `json:"old_tier"`
	ExpectedTier  string            `json:"expected_tier"`
	CurrentTier   string            `json:"current_tier"`
	Deadline      time.Time         `json:"deadline"`
	MeetsExpected bool              `json:"meets_expected"`
	Missing       []program.Missing `json:"missing,omitempty"`
	RemindersSent int               `json:"reminders_sent"`
	Reminders     []ReminderRecord  `json:"reminders,omitempty"`
	NextReminder  *time.Time        `json:"next_reminder,omitempty"`
	Extensions    []Extension       `json:"extensions,omitempty"`
	EmailFailures []string          `json:"email_failures,omitempty"`
	// Undelivered are the emails SendGrid bounced or dropped.
	Undelivered []EmailUndelivered `json:"undelivered,omitempty"`
	Outcome     string             `json:"outcome,omitempty"`
	NewTier     string             `json:"new_tier,omitempty"`
	Runs        int                `json:"runs"`
	// Tracks is each track's latest evaluation and TrackResults each
	// track's decision, for a program with tracks.
	Tracks       []program.TrackEvaluation `json:"tracks,omitempty"`
	TrackResults []TrackResult             `json:"track_results,omitempty"`
}

// Result is what a finished transition returns.
type Result struct {
	Outcome     string `json:"outcome"`
	OldTier     string `json:"old_tier"`
	NewTier     string `json:"new_tier"`
	EmailsSent  int    `json:"emails_sent"`
	EmailFailed bool   `json:"email_failed"`
	// Tracks is each track's decision, for a program with tracks; Outcome
	// then sums them up (program.HeadlineOutcome).
	Tracks []TrackResult `json:"tracks,omitempty"`
}
