package workflows

import "go.temporal.io/sdk/workflow"

// Version markers for changes made while campaigns run for months. Every
// behaviour change to PartnerTransition goes behind workflow.GetVersion so
// that histories recorded before it still replay (see testdata/).
const (
	// changeNotifyExtension: an extended deadline is emailed to the partner.
	changeNotifyExtension = "notify-extension"
	// changeShowNotified: the search attributes (Stage, Deadline) are
	// upserted right after the announcement and after an extension, not
	// only at the next reminder, so the Web UI never shows a notified
	// partner as waiting-launch (version 1). Version 2
	// (showQuietDeciding) changes what the search attributes show too.
	changeShowNotified = "show-notified"
	// changeLocalStore: the Postgres activities (LoadPartner, RecordStage,
	// ApplyTierChange) run as local activities, recorded as one marker
	// each, instead of regular activities scheduled through the server.
	changeLocalStore = "local-store-activities"
	// changeDeliveryEvents: an email-undelivered message (SendGrid bounced
	// or dropped an email) is recorded and shown as EmailUndelivered.
	changeDeliveryEvents = "delivery-events"
	// changeTracks: a program with tracks is run track by track (tracks.go):
	// every track decided at the deadline, one tier change per track, the
	// TrackOutcomes search attribute. Only runs of such programs ask for
	// it, so the runs of other programs record no marker and are unchanged.
	changeTracks = "track-programs"
	// changeTimeZones: a new run keeps its deadline in the program's zone
	// (a grace period in days or months ends at 23:59:59 there, and so
	// does an extension) and writes every date of its emails in the
	// partner's zone, naming it. State.TimeZone is set on such runs and
	// carried across continue-as-new; runs begun before keep exact UTC
	// arithmetic and UTC dates.
	changeTimeZones = "time-zones"
)

// showQuietDeciding is changeShowNotified's version 2: at the deadline the
// Stage search attribute is not set to deciding (showDeciding). It is a
// version of an existing change rather than a change of its own because a
// run's first GetVersion of a change upserts TemporalChangeVersion: a new
// change taken at the deadline would cost the very visibility write it
// removes, while show-notified is taken at the announcement, in a workflow
// task that upserts anyway.
const showQuietDeciding workflow.Version = 2
