package workflows

import (
	"cmp"
	"testing"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/tiershift/tiershift/program"
	"github.com/tiershift/tiershift/zones"
)

// programZone is the zone of prog's deadlines.
func programZone(t *testing.T, prog *program.Program) *time.Location {
	t.Helper()
	loc, err := zones.Load(cmp.Or(prog.TimeZone, zones.UTC))
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// parisProgram is the VMware example kept in Paris time.
func parisProgram(t *testing.T) *program.Program {
	prog := loadExample(t, "vmware-2009")
	prog.TimeZone = "Europe/Paris"
	return prog
}

// TestDeadlineEndsTheDayInTheProgramsZone: launched 14 April 2009 at 00:00
// UTC (02:00 in Paris), an Enterprise partner's 9 months end on 14 January
// 2010 at 23:59:59 Paris time, winter time (UTC+1): 22:59:59 UTC. An
// extension of 90 days moves it to 14 April 2010, 23:59:59 Paris time, now
// summer time (from 28 March 2010, UTC+2): 21:59:59 UTC. Every email names the partner's zone: its own, else
// its country's when it has one, else the program's.
func TestDeadlineEndsTheDayInTheProgramsZone(t *testing.T) {
	firstDeadline := time.Date(2010, time.January, 14, 22, 59, 59, 0, time.UTC)
	extended := time.Date(2010, time.April, 14, 21, 59, 59, 0, time.UTC)
	for _, c := range []struct{ name, country, own, want string }{
		{"country with one zone", "FR", "", "Europe/Paris"},
		{"own zone", "FR", "America/Chicago", "America/Chicago"},
		{"country with several zones", "US", "", "Europe/Paris"},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, parisProgram(t), "Enterprise", program.Facts{})
			h.be.partner.Country, h.be.partner.TimeZone = c.country, c.own
			var ext *updateResult
			h.at(h.until(firstDeadline.AddDate(0, 0, -10)), func() {
				ext = h.update(MessageExtend, "ext-1", ExtendDeadline{ID: "ext-1", By: program.Duration{Days: 90}, Reason: "LMS outage"})
			})
			h.run()
			if st := ext.accepted(t, "extend"); !st.Extensions[0].From.Equal(firstDeadline) {
				t.Errorf("first deadline %v, want %v", st.Extensions[0].From, firstDeadline)
			}
			if !h.env.Now().Equal(extended) {
				t.Errorf("decided at %v, want the extended deadline %v", h.env.Now(), extended)
			}
			if len(h.be.emails) < 3 {
				t.Fatalf("emails %v", h.be.steps())
			}
			for _, e := range h.be.emails {
				if e.Data.TimeZone != c.want {
					t.Errorf("%s: zone %q, want %q", e.Step, e.Data.TimeZone, c.want)
				}
			}
		})
	}
}

// TestRunBeforeTimeZonesKeepsUTC: a run that began before time zones (no
// time-zones marker in its history) keeps its exact UTC arithmetic and UTC
// dates, even if its program now names a zone: 9 months after 14 April
// 2009 00:00 UTC is 14 January 2010 00:00 UTC, and its emails carry no zone.
func TestRunBeforeTimeZonesKeepsUTC(t *testing.T) {
	h := newHarness(t, parisProgram(t), "Enterprise", program.Facts{})
	h.be.partner.Country = "FR"
	h.env.OnGetVersion(changeTimeZones, workflow.DefaultVersion, 1).Return(workflow.DefaultVersion)
	var ext *updateResult
	h.at(h.until(time.Date(2010, time.January, 4, 0, 0, 0, 0, time.UTC)), func() {
		ext = h.update(MessageExtend, "ext-1", ExtendDeadline{ID: "ext-1", By: program.Duration{Days: 30}, Reason: "LMS outage"})
	})
	h.run()
	ext.accepted(t, "extend")
	if want := time.Date(2010, time.February, 13, 0, 0, 0, 0, time.UTC); !h.env.Now().Equal(want) {
		t.Errorf("decided at %v, want %v (9 months and 30 days, exact)", h.env.Now(), want)
	}
	for _, e := range h.be.emails {
		if e.Data.TimeZone != "" {
			t.Errorf("%s: zone %q, want none", e.Step, e.Data.TimeZone)
		}
	}
	if len(h.be.emails) == 0 {
		t.Fatal("no emails")
	}
}
