package main

import (
	"cmp"
	"fmt"
	"time"

	"github.com/tiershift/tiershift/program"
	"github.com/tiershift/tiershift/store"
	"github.com/tiershift/tiershift/zones"
)

// Bounds of `starter extend`. A new deadline is emailed to the partner at
// once, so a typo ("--by 99999d", "30 months" for "30 days") is public the
// moment it is sent: beyond a year after the original deadline is refused
// unless the operator says --allow-far-deadline. A year covers any real delay
// (an LMS outage, a yearly audit); 366 days so that "1 year" or "12 months"
// always fits, leap day or not. Even with the flag the deadline stays within
// ten years: a date past year 9999 cannot be written as JSON at all.
const (
	maxExtensionDays    = 366
	maxFarExtensionDays = 3653
)

// checkExtensionFlag refuses a --by that alone exceeds the bound, before
// anything is read or sent.
func checkExtensionFlag(by program.Duration, now time.Time, allowFar bool) error {
	limit, hint := extensionLimit(allowFar)
	if by.AddTo(now).After(now.AddDate(0, 0, limit)) {
		return fmt.Errorf("--by %s is more than %d days%s", by, limit, hint)
	}
	return nil
}

// checkExtension refuses extending m's deadline by `by` when the new deadline
// is not in the future, or is more than the bound after the partner's
// original deadline (the launch plus its transition's grace).
// Dates are computed as a transition computes them (the end-of-day rule in
// the program's zone); a run begun before time zones, which counts in exact
// UTC, differs by less than a day.
func checkExtension(camp store.Campaign, m member, by program.Duration, now time.Time, allowFar bool) error {
	loc, err := zones.Load(cmp.Or(camp.Program.TimeZone, zones.UTC))
	if err != nil {
		loc = time.UTC // checked when the program was loaded
	}
	original, err := camp.Program.DeadlineIn(m.OldTier, camp.LaunchAt, loc)
	if err != nil {
		return fmt.Errorf("partner %s: %w", m.PartnerID, err)
	}
	current := m.Deadline
	if current.IsZero() {
		current = original
	}
	next := by.EndOfDayFrom(current, loc)
	limit, hint := extensionLimit(allowFar)
	switch {
	case !next.After(now):
		return fmt.Errorf("partner %s: the new deadline %s (%s + %s) is in the past; now is %s",
			m.PartnerID, fmtTime(next), fmtTime(current), by, fmtTime(now))
	case next.After(original.AddDate(0, 0, limit)):
		return fmt.Errorf("partner %s: the new deadline %s (%s + %s) is more than %d days after the original deadline %s%s",
			m.PartnerID, fmtTime(next), fmtTime(current), by, limit, fmtTime(original), hint)
	}
	return nil
}

func extensionLimit(allowFar bool) (days int, hint string) {
	if allowFar {
		return maxFarExtensionDays, ""
	}
	return maxExtensionDays, "; give --allow-far-deadline if it is meant"
}
