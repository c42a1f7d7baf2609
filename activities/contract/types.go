// Package contract is the activities' side of the workflow boundary: each
// activity's name in Temporal, what it takes and returns, and a typed
// reference to call it by. Workflows import this package and never the
// implementations (package activities, which links pgx, the store and
// SendGrid), so a workflow cannot reach Postgres or the network by accident
// and `go list -deps ./workflows` stays small.
//
// A workflow calls an activity through its reference, the worker registers
// the implementation through the same reference, and so do the workflow
// tests' stand-ins:
//
//	snap, err := contract.LoadPartner.ExecuteLocal(ctx, ref).Get(ctx)   // workflow
//	contract.LoadPartner.Register(w, store.LoadPartner)                  // worker
//
// Register only compiles when the function's types match the reference, and
// the name in Temporal is written once, here: renaming a Go method cannot
// rename an activity that running workflows and recorded histories know.
package contract

import (
	"time"

	"github.com/tiershift/tiershift/email"
	"github.com/tiershift/tiershift/program"
)

// Error types that must not be retried. Temporal matches them by name in a
// retry policy's NonRetryableErrorTypes.
const (
	ErrTypeUnknownPartner = "UnknownPartner"
	// ErrTypeInvalidInput is an activity input that lacks a required field.
	ErrTypeInvalidInput = "InvalidInput"
	// ErrTypeNoProgram: the campaign does not exist or has no stored
	// program (it was never launched), so no transition of it can run.
	ErrTypeNoProgram = "NoProgram"
)

// PartnerRef names one partner in one campaign.
type PartnerRef struct {
	CampaignID string `json:"campaign_id"`
	PartnerID  string `json:"partner_id"`
}

// CampaignRef names the campaign whose stored program a transition runs.
type CampaignRef struct {
	CampaignID string `json:"campaign_id"`
}

// PartnerSnapshot is a partner's contact and facts as Postgres has them now,
// as a workflow records them in its history: its own type, not
// store.Partner, because its JSON names are what recorded histories hold
// (a change to the table must not change them) and the workflows package
// must not import the store.
type PartnerSnapshot struct {
	PartnerID string        `json:"partner_id"`
	Name      string        `json:"name"`
	Email     string        `json:"email"`
	Locale    string        `json:"locale"`
	Country   string        `json:"country"`
	Tier      string        `json:"tier"`
	Facts     program.Facts `json:"facts"`
	// TimeZone is the partner's own IANA zone from the partner file, if any.
	TimeZone string `json:"timezone,omitempty"`
}

// StageUpdate mirrors a workflow's state into its enrollment row, so reports
// and `starter status` can read a campaign from Postgres without Temporal.
type StageUpdate struct {
	WorkflowID    string            `json:"workflow_id"`
	CampaignID    string            `json:"campaign_id"`
	PartnerID     string            `json:"partner_id"`
	Stage         string            `json:"stage"`
	OldTier       string            `json:"old_tier"`
	ExpectedTier  string            `json:"expected_tier"`
	CurrentTier   string            `json:"current_tier"`
	Deadline      time.Time         `json:"deadline"`
	Missing       []program.Missing `json:"missing,omitempty"`
	RemindersSent int               `json:"reminders_sent"`
	Outcome       string            `json:"outcome,omitempty"`
	NewTier       string            `json:"new_tier,omitempty"`
	EmailFailed   bool              `json:"email_failed,omitempty"`
	// Seq orders a workflow's updates: the workflow increments it for every
	// update, and an update older than the stored one is ignored, so a late
	// retry of an old activity never moves an enrollment back.
	Seq int64 `json:"seq"`
}

// TierChange is one change of a partner's tier, applied once per
// (WorkflowID, Step, Track) however often the activity runs.
type TierChange struct {
	WorkflowID string `json:"workflow_id"`
	Step       string `json:"step"`
	// Track names the track of a program with tracks whose level changes;
	// empty for a program without tracks (the partner's one tier). One
	// decision writes one change per track.
	Track      string `json:"track,omitempty"`
	CampaignID string `json:"campaign_id"`
	PartnerID  string `json:"partner_id"`
	FromTier   string `json:"from_tier"`
	ToTier     string `json:"to_tier"`
	// Outcome is promoted, kept, demoted, qualified, exempted or withdrawn.
	Outcome string `json:"outcome"`
	Reason  string `json:"reason"`
	// Actor is who decided: "workflow" or an operator's name.
	Actor string `json:"actor"`
}

// TierChangeResult says whether this call wrote the change or found it done.
type TierChangeResult struct {
	Applied bool `json:"applied"`
}

// SendEmailInput is one message the workflow decided to send. (WorkflowID,
// Step) is its dedupe key: the same key is never sent twice.
type SendEmailInput struct {
	WorkflowID string         `json:"workflow_id"`
	Step       string         `json:"step"`
	CampaignID string         `json:"campaign_id"`
	PartnerID  string         `json:"partner_id"`
	Kind       email.Kind     `json:"kind"`
	To         string         `json:"to"`
	ToName     string         `json:"to_name"`
	Locale     string         `json:"locale"`
	Data       email.Data     `json:"data"`
	Settings   program.Emails `json:"settings"`
	// CalendarSequence is the SEQUENCE of the deadline's calendar entry:
	// the transition's deadline revision, so an extension's entry (same
	// UID) replaces the announcement's in the partner's calendar.
	CalendarSequence int `json:"calendar_sequence,omitempty"`
}

// Email delivery statuses, as stored in the emails table.
const (
	EmailPending  = "pending"
	EmailSent     = "sent"
	EmailCaptured = "captured"
	EmailFailed   = "failed"
)

// SendEmailResult is what happened to one message. A permanent rejection is a
// result (Status failed), not an error, so the workflow goes on.
type SendEmailResult struct {
	Status    string `json:"status"`
	MessageID string `json:"message_id,omitempty"`
	Error     string `json:"error,omitempty"`
	// AlreadyDone is true when an earlier attempt had already finished it.
	AlreadyDone bool `json:"already_done,omitempty"`
}
