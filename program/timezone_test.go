package program

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tiershift/tiershift/zones"
)

func TestLoadTimeZone(t *testing.T) {
	p, err := Load("p.yaml", []byte(programWith(map[int]string{1: "program: {id: t, name: T, vendor: V, currency: USD, timezone: Europe/Paris}"}, "")))
	if err != nil {
		t.Fatal(err)
	}
	if p.TimeZone != "Europe/Paris" {
		t.Errorf("TimeZone = %q, want Europe/Paris", p.TimeZone)
	}
	p, err = Load("p.yaml", []byte(minimalProgram("")))
	if err != nil {
		t.Fatal(err)
	}
	if p.TimeZone != "" {
		t.Errorf("a program without timezone has TimeZone %q, want empty (UTC)", p.TimeZone)
	}
}

func TestLoadTimeZoneProblems(t *testing.T) {
	for _, tz := range []string{"Europe/Pariss", "Local", "CET CEST", "\"\""} {
		src := programWith(map[int]string{1: "program:", 2: "  id: t\n  name: T\n  vendor: V\n  currency: USD\n  timezone: " + tz + "\ncatalog:"}, "")
		_, err := Load("p.yaml", []byte(src))
		var probs Problems
		if !errors.As(err, &probs) || len(probs) != 1 {
			t.Errorf("timezone %s: err = %v, want one problem", tz, err)
			continue
		}
		// Line 6: "program:" is 1, then id, name, vendor, currency, timezone.
		if got := probs[0]; got.Line != 6 || got.Field != "program.timezone" || got.File != "p.yaml" {
			t.Errorf("timezone %s: problem %+v, want p.yaml:6 program.timezone", tz, got)
		}
		if !strings.Contains(err.Error(), "p.yaml:6: program.timezone:") {
			t.Errorf("timezone %s: message %q does not locate the problem", tz, err)
		}
	}
}

// TestEndOfDayRule checks the deadline rule with instants worked out by hand.
// Europe/Paris is UTC+1 in winter (CET) and UTC+2 in summer (CEST); in 2026
// summer time starts on Sunday 29 March (02:00 → 03:00) and ends on Sunday
// 25 October (03:00 → 02:00).
func TestEndOfDayRule(t *testing.T) {
	paris, err := zones.Load("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	utc := func(y int, m time.Month, d, h, min, s int) time.Time {
		return time.Date(y, m, d, h, min, s, 0, time.UTC)
	}
	cases := []struct {
		name   string
		grace  Duration
		launch time.Time
		loc    *time.Location
		want   time.Time
	}{
		// 14 April 10:00 Paris (08:00Z) + 6 months = 14 October, summer
		// time: 23:59:59 CEST = 21:59:59Z.
		{"months, summer", Duration{Months: 6}, utc(2026, 4, 14, 8, 0, 0), paris, utc(2026, 10, 14, 21, 59, 59)},
		// 1 March + 30 days = 31 March, two days after the spring change:
		// 23:59:59 CEST = 21:59:59Z (it would be 22:59:59Z in winter).
		{"days across spring DST", Duration{Days: 30}, utc(2026, 3, 1, 9, 0, 0), paris, utc(2026, 3, 31, 21, 59, 59)},
		// The deadline day is the day of the autumn change itself: 25
		// October ends in winter time, 23:59:59 CET = 22:59:59Z.
		{"deadline on autumn DST day", Duration{Days: 1}, utc(2026, 10, 24, 12, 0, 0), paris, utc(2026, 10, 25, 22, 59, 59)},
		// Launched at 23:30 Paris on 31 December (22:30Z): the calendar
		// step starts from the Paris date, 31 December, not from 1 January
		// nor from the UTC date; + 1 month = 31 January, CET.
		{"launch date is the zone's date", Duration{Months: 1}, utc(2026, 12, 31, 22, 30, 0), paris, utc(2027, 1, 31, 22, 59, 59)},
		// Launched at 00:30 Paris on 1 January (31 December 23:30Z): the
		// Paris date is 1 January; + 1 day = 2 January, CET.
		{"UTC date behind the zone's", Duration{Days: 1}, utc(2026, 12, 31, 23, 30, 0), paris, utc(2027, 1, 2, 22, 59, 59)},
		// Program without a zone: the end of the UTC day.
		{"UTC", Duration{Days: 7}, utc(2026, 4, 14, 8, 0, 0), time.UTC, utc(2026, 4, 21, 23, 59, 59)},
		// Minutes are exact: 10 minutes after launch, the zone unused.
		{"minutes exact", Duration{Minutes: 10}, utc(2026, 4, 14, 8, 0, 0), paris, utc(2026, 4, 14, 8, 10, 0)},
		{"days and hours exact", Duration{Days: 1, Minutes: 60}, utc(2026, 4, 14, 8, 0, 0), paris, utc(2026, 4, 15, 9, 0, 0)},
	}
	for _, c := range cases {
		got := c.grace.EndOfDayFrom(c.launch, c.loc)
		if !got.Equal(c.want) || got.Location() != time.UTC {
			t.Errorf("%s: %s from %s = %s, want %s", c.name, c.grace, c.launch, got, c.want)
		}
	}
	p, err := Load("p.yaml", []byte(minimalProgram("")))
	if err != nil {
		t.Fatal(err)
	}
	got, err := p.DeadlineIn("Old1", utc(2026, 4, 14, 8, 0, 0), paris)
	if err != nil || !got.Equal(utc(2026, 10, 14, 21, 59, 59)) {
		t.Errorf("DeadlineIn(Old1, 6 months) = %s, %v; want 2026-10-14T21:59:59Z", got, err)
	}
	if _, err := p.DeadlineIn("Nope", utc(2026, 4, 14, 8, 0, 0), paris); err == nil {
		t.Error("DeadlineIn of an unknown old tier gave no error")
	}
}
