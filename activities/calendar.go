package activities

import (
	"fmt"
	"strings"
	"time"

	ics "github.com/arran4/golang-ical"

	"github.com/tiershift/tiershift/activities/contract"
	"github.com/tiershift/tiershift/email"
)

// CalendarFilename is the attachment's name.
const CalendarFilename = "deadline.ics"

// CalendarContentType is the attachment's MIME type (RFC 5545 §8.1).
const CalendarContentType = "text/calendar; charset=utf-8; method=PUBLISH"

// HasCalendar reports whether emails of kind carry the deadline's calendar
// entry: those that set or move it, and the reminders of it.
func HasCalendar(kind email.Kind) bool {
	return kind == email.KindAnnouncement || kind == email.KindExtended || kind == email.KindReminder
}

// CalendarUID is the entry's UID, the same for every email of one partner
// in one campaign, so calendar programs update one entry instead of adding
// one per email: "tiershift-deadline/<campaign>/<partner>". IDs, not names:
// the UID is shown to nobody but may be logged by calendar servers.
func CalendarUID(campaignID, partnerID string) string {
	return "tiershift-deadline/" + campaignID + "/" + partnerID
}

// DeadlineCalendar writes the iCalendar (RFC 5545) object attached to
// announcement, extension and reminder emails: one VEVENT ending at the
// deadline (an hour long, so it shows in a day view) with a reminder alarm a
// day before, titled in the email's locale. SEQUENCE is the deadline
// revision, DTSTAMP the workflow time the email was decided, so retries of
// one email write the same bytes and an extension's entry, with a higher
// SEQUENCE, supersedes the announcement's. It is written by
// github.com/arran4/golang-ical.
func DeadlineCalendar(in contract.SendEmailInput, locale string) ([]byte, error) {
	d := in.Data
	if d.Deadline.IsZero() {
		return nil, fmt.Errorf("calendar: the email has no deadline")
	}
	cal := ics.NewCalendarFor("tiershift")
	cal.SetMethod(ics.MethodPublish)
	ev := cal.AddEvent(CalendarUID(in.CampaignID, in.PartnerID))
	ev.SetSequence(in.CalendarSequence)
	stamp := d.Now
	if stamp.IsZero() {
		stamp = d.Deadline
	}
	ev.SetDtStampTime(stamp.UTC())
	ev.SetStartAt(d.Deadline.Add(-time.Hour).UTC())
	ev.SetEndAt(d.Deadline.UTC())
	summary, desc := calendarText(d, locale)
	ev.SetSummary(summary)
	ev.SetDescription(desc)
	if u := d.Links["portal"]; u != "" {
		ev.SetURL(u)
	}
	ev.SetTimeTransparency(ics.TransparencyTransparent)
	alarm := ev.AddAlarm()
	alarm.SetAction(ics.ActionDisplay)
	alarm.SetTrigger("-P1D")
	alarm.SetProperty(ics.ComponentPropertyDescription, summary)
	var b strings.Builder
	if err := cal.SerializeTo(&b); err != nil {
		return nil, fmt.Errorf("calendar: %w", err)
	}
	return []byte(b.String()), nil
}

// deadlineLine is "Deadline: October 14, 2026 at 23:59 Paris time" in the
// entry's locale.
func deadlineLine(d email.Data, locale string) string {
	when := email.FormatDateIn(d.Deadline, locale, d.TimeZone)
	if strings.HasPrefix(locale, "fr") {
		return "Échéance : " + when
	}
	return "Deadline: " + when
}

// calendarText is the entry's title and description in the email's locale.
func calendarText(d email.Data, locale string) (summary, description string) {
	if strings.HasPrefix(locale, "fr") {
		summary = fmt.Sprintf("Échéance : niveau %s, %s", d.ExpectedTier, d.ProgramName)
		description = fmt.Sprintf("Date limite pour atteindre le niveau %s du programme « %s » de %s.", d.ExpectedTier, d.ProgramName, d.Vendor)
	} else {
		summary = fmt.Sprintf("Deadline: %s tier, %s", d.ExpectedTier, d.ProgramName)
		description = fmt.Sprintf("Deadline to reach the %s tier of %s's %s.", d.ExpectedTier, d.Vendor, d.ProgramName)
	}
	if d.TimeZone != "" {
		// The entry's times are UTC (valid everywhere, shown in the reader's
		// own zone by calendar programs); the text says when that is where
		// the partner is, as the email does.
		description += "\n" + deadlineLine(d, locale)
	}
	if u := d.Links["portal"]; u != "" {
		description += "\n" + u
	}
	return summary, description
}
