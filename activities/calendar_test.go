package activities

import (
	"bytes"
	"context"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-ical"

	"github.com/tiershift/tiershift/email"
)

// parseCalendar reads an attachment with emersion/go-ical, a parser
// tiershift did not write, and re-encodes it with that library's encoder,
// which refuses a calendar missing what RFC 5545 requires (VERSION, PRODID,
// a VEVENT's UID and DTSTAMP…).
func parseCalendar(t *testing.T, b []byte) (*ical.Calendar, ical.Event) {
	t.Helper()
	cal, err := ical.NewDecoder(bytes.NewReader(b)).Decode()
	if err != nil {
		t.Fatalf("RFC 5545 parser refused the calendar: %v\n%s", err, b)
	}
	if err := ical.NewEncoder(&bytes.Buffer{}).Encode(cal); err != nil {
		t.Fatalf("RFC 5545 encoder refused the calendar: %v\n%s", err, b)
	}
	events := cal.Events()
	if len(events) != 1 {
		t.Fatalf("%d events, want 1:\n%s", len(events), b)
	}
	return cal, events[0]
}

func propText(t *testing.T, c *ical.Component, name string) string {
	t.Helper()
	p := c.Props.Get(name)
	if p == nil {
		t.Fatalf("%s missing", name)
	}
	s, err := p.Text()
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return s
}

// TestExtensionMovesTheSameCalendarEntry: the announcement's and the
// extension's entries share one UID, the extension's SEQUENCE is higher and
// its end is the new deadline, so a calendar program moves the entry.
func TestExtensionMovesTheSameCalendarEntry(t *testing.T) {
	in := testEmailInput("announcement")
	in.Kind = email.KindAnnouncement
	in.Data.Links = map[string]string{"portal": "https://partners.example.com/"}
	first, err := DeadlineCalendar(in, "en")
	if err != nil {
		t.Fatal(err)
	}
	ext := in
	ext.Step, ext.Kind, ext.CalendarSequence = "extended/r1", email.KindExtended, 1
	ext.Data.PreviousDeadline = in.Data.Deadline
	ext.Data.Deadline = in.Data.Deadline.AddDate(0, 0, 30)
	second, err := DeadlineCalendar(ext, "fr")
	if err != nil {
		t.Fatal(err)
	}
	cal1, ev1 := parseCalendar(t, first)
	_, ev2 := parseCalendar(t, second)
	if m := propText(t, cal1.Component, ical.PropMethod); m != "PUBLISH" {
		t.Errorf("METHOD %q", m)
	}
	uid1, uid2 := propText(t, ev1.Component, ical.PropUID), propText(t, ev2.Component, ical.PropUID)
	if uid1 != uid2 || uid1 != "tiershift-deadline/c1/P-42" {
		t.Errorf("UIDs %q and %q: want one stable UID per campaign and partner", uid1, uid2)
	}
	for _, c := range []struct {
		ev       ical.Event
		seq      int
		deadline time.Time
		summary  string
	}{{ev1, 0, in.Data.Deadline, "Deadline: Principal tier, Partner Connect"}, {ev2, 1, ext.Data.Deadline, "Échéance : niveau Principal, Partner Connect"}} {
		seq, err := c.ev.Props.Get(ical.PropSequence).Int()
		if err != nil || seq != c.seq {
			t.Errorf("SEQUENCE %d (%v), want %d", seq, err, c.seq)
		}
		end, err := c.ev.DateTimeEnd(time.UTC)
		if err != nil || !end.Equal(c.deadline) {
			t.Errorf("DTEND %v (%v), want the deadline %v", end, err, c.deadline)
		}
		start, err := c.ev.DateTimeStart(time.UTC)
		if err != nil || !start.Before(end) {
			t.Errorf("DTSTART %v (%v) not before DTEND %v", start, err, end)
		}
		if s := propText(t, c.ev.Component, ical.PropSummary); s != c.summary {
			t.Errorf("SUMMARY %q, want %q", s, c.summary)
		}
		alarms := 0
		for _, child := range c.ev.Children {
			if child.Name == ical.CompAlarm {
				alarms++
				if tr := child.Props.Get(ical.PropTrigger); tr == nil || tr.Value != "-P1D" {
					t.Errorf("alarm trigger %+v, want a day before", tr)
				}
			}
		}
		if alarms != 1 {
			t.Errorf("%d alarms, want 1", alarms)
		}
	}
	// A retry of the same email writes the same bytes.
	again, _ := DeadlineCalendar(in, "en")
	if !bytes.Equal(first, again) {
		t.Error("the same email's calendar differs between two writes")
	}
}

// TestSendEmailAttachesTheCalendar: announcements, extensions and
// reminders carry the entry; qualified and outcome emails do not.
func TestSendEmailAttachesTheCalendar(t *testing.T) {
	f := newMailerFixture(t, 2*time.Second)
	for _, kind := range email.Kinds {
		in := testEmailInput(string(kind))
		in.Kind = kind
		if _, err := f.mailer.SendEmail(context.Background(), in); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range f.stub.Messages() {
		kind := email.Kind(m.CustomArgs["kind"])
		atts, _ := m.Raw["attachments"].([]any)
		if !HasCalendar(kind) {
			if len(atts) != 0 {
				t.Errorf("%s carries %d attachments", kind, len(atts))
			}
			continue
		}
		if len(atts) != 1 {
			t.Fatalf("%s: %d attachments, want the calendar", kind, len(atts))
		}
		a := atts[0].(map[string]any)
		if a["filename"] != "deadline.ics" || !strings.HasPrefix(a["type"].(string), "text/calendar") || a["disposition"] != "attachment" {
			t.Errorf("%s attachment %v", kind, a)
		}
		raw, err := base64.StdEncoding.DecodeString(a["content"].(string))
		if err != nil {
			t.Fatal(err)
		}
		_, ev := parseCalendar(t, raw)
		if uid := propText(t, ev.Component, ical.PropUID); uid != CalendarUID("c1", "P-42") {
			t.Errorf("%s: UID %q", kind, uid)
		}
	}
	if len(f.stub.Messages()) != len(email.Kinds) {
		t.Errorf("%d messages sent, want %d", len(f.stub.Messages()), len(email.Kinds))
	}
}

// TestCalendarNamesThePartnersZone: a partner's entry ends at the deadline
// instant, written in UTC (so it is valid whatever the reader's zone), and
// its description gives the deadline in the partner's zone, naming it.
// 2026-10-14T21:59:59Z is 23:59:59 in Paris (CEST, UTC+2).
func TestCalendarNamesThePartnersZone(t *testing.T) {
	in := testEmailInput("announcement")
	in.Kind = email.KindAnnouncement
	in.Data.Deadline = time.Date(2026, 10, 14, 21, 59, 59, 0, time.UTC)
	in.Data.TimeZone = "Europe/Paris"
	for locale, want := range map[string]string{
		"en": "Deadline: October 14, 2026 at 23:59 Paris time",
		"fr": "Échéance : 14\u00a0octobre 2026 à 23\u00a0h\u00a059, heure de Paris",
	} {
		b, err := DeadlineCalendar(in, locale)
		if err != nil {
			t.Fatal(err)
		}
		_, ev := parseCalendar(t, b)
		if d := propText(t, ev.Component, ical.PropDescription); !strings.Contains(d, want) {
			t.Errorf("%s: DESCRIPTION %q lacks %q", locale, d, want)
		}
		end, err := ev.DateTimeEnd(time.UTC)
		if err != nil || !end.Equal(in.Data.Deadline) {
			t.Errorf("%s: DTEND %v (%v), want %v", locale, end, err, in.Data.Deadline)
		}
	}
}
