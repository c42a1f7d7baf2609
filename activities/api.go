// Package activities holds tiershift's Temporal activities: every read and
// write of Postgres and every email sent. Activities are methods on structs
// that hold their dependencies, and each one is safe to run twice: its
// effects are keyed by (workflow ID, step), enforced by Postgres constraints.
//
// What the activities take and return, and their names in Temporal, are
// defined in package contract, which workflows import instead of this one.
// The aliases below let this package and its callers use the short names;
// each is the contract's type, not a copy.
package activities

import "github.com/tiershift/tiershift/activities/contract"

// Error types that must not be retried (see contract).
const (
	ErrTypeUnknownPartner = contract.ErrTypeUnknownPartner
	ErrTypeInvalidInput   = contract.ErrTypeInvalidInput
	ErrTypeNoProgram      = contract.ErrTypeNoProgram
)

// Email delivery statuses, as stored in the emails table (see contract).
const (
	EmailPending  = contract.EmailPending
	EmailSent     = contract.EmailSent
	EmailCaptured = contract.EmailCaptured
	EmailFailed   = contract.EmailFailed
)

// The activities' inputs and outputs (see contract).
type (
	PartnerRef       = contract.PartnerRef
	CampaignRef      = contract.CampaignRef
	PartnerSnapshot  = contract.PartnerSnapshot
	StageUpdate      = contract.StageUpdate
	TierChange       = contract.TierChange
	TierChangeResult = contract.TierChangeResult
	SendEmailInput   = contract.SendEmailInput
	SendEmailResult  = contract.SendEmailResult
)

// Register registers the Postgres activities in r under their contract
// names. It only compiles while each method matches its contract.
func (a *Store) Register(r contract.Registry) {
	contract.LoadProgram.Register(r, a.LoadProgram)
	contract.LoadPartner.Register(r, a.LoadPartner)
	contract.RecordStage.Register(r, a.RecordStage)
	contract.ApplyTierChange.Register(r, a.ApplyTierChange)
}

// Register registers SendEmail in r under its contract name.
func (m *Mailer) Register(r contract.Registry) {
	contract.SendEmail.Register(r, m.SendEmail)
}
