// Package email renders tiershift's partner emails: one kind per workflow
// step, HTML and plain text, in the partner's language, from embedded
// templates that a program may override.
package email

import (
	"time"

	"github.com/tiershift/tiershift/program"
)

// Kind is the workflow step an email belongs to.
type Kind string

// The kinds are program's email kinds, typed.
const (
	KindAnnouncement Kind = program.EmailAnnouncement
	KindReminder     Kind = program.EmailReminder
	KindQualified    Kind = program.EmailQualified
	KindExtended     Kind = program.EmailExtended
	KindOutcome      Kind = program.EmailOutcome
)

// Kinds lists every kind, in the order a partner may receive them: made
// from program.EmailKinds, the one list.
var Kinds = kindsOf(program.EmailKinds)

func kindsOf(names []string) []Kind {
	out := make([]Kind, len(names))
	for i, n := range names {
		out[i] = Kind(n)
	}
	return out
}

// Data is everything a template may show. The workflow fills it from the
// program and the partner's evaluation; templates never compute rules.
type Data struct {
	CampaignID   string `json:"campaign_id"`
	PartnerID    string `json:"partner_id"`
	PartnerName  string `json:"partner_name"`
	ProgramName  string `json:"program_name"`
	Vendor       string `json:"vendor"`
	Currency     string `json:"currency"`
	OldTier      string `json:"old_tier"`
	ExpectedTier string `json:"expected_tier"`
	// NewTier and Outcome are set on outcome and qualified emails.
	NewTier string          `json:"new_tier,omitempty"`
	Outcome program.Outcome `json:"outcome,omitempty"`
	// Deadline is when the partner's transition is decided.
	Deadline time.Time `json:"deadline"`
	// PreviousDeadline is set on extended emails.
	PreviousDeadline time.Time `json:"previous_deadline,omitzero"`
	// Now is the workflow time the email was decided, for "N days left".
	Now     time.Time         `json:"now"`
	Missing []program.Missing `json:"missing,omitempty"`
	Links   map[string]string `json:"links,omitempty"`
	// Fallback is the program's fallback tier, so a demotion to it can be
	// explained with how to regain a tier.
	Fallback string `json:"fallback,omitempty"`
	// ApplyAt says whether a tier met early applies now or at the deadline.
	ApplyAt program.ApplyAt `json:"apply_at,omitempty"`
	// Tracks, set for a program with tracks, is the partner's evaluation in
	// each track it holds; the email then speaks of each track on its own
	// line and the single-ladder fields above are left empty.
	Tracks []TrackData `json:"tracks,omitempty"`
	// TimeZone is the IANA zone the partner reads its dates in
	// (zones.ForPartner); every date is then written in it, naming it. Empty
	// for emails of transitions begun before zones: dates in UTC.
	TimeZone string `json:"time_zone,omitempty"`
}

// TrackData is one track of a partner's evaluation, with that track's
// fallback so a demotion to it can be explained.
type TrackData struct {
	program.TrackEvaluation
	Fallback string `json:"fallback,omitempty"`
}
