package workflows

// Version markers for changes made while campaigns run for months. Every
// behaviour change to PartnerTransition goes behind workflow.GetVersion so
// that histories recorded before it still replay (see testdata/).
const (
	// changeNotifyExtension: an extended deadline is emailed to the partner.
	changeNotifyExtension = "notify-extension"
	// changeShowNotified: the search attributes (Stage, Deadline) are
	// upserted right after the announcement and after an extension, not
	// only at the next reminder, so the Web UI never shows a notified
	// partner as waiting-launch.
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
