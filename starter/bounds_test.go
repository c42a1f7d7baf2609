package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tiershift/tiershift/program"
	"github.com/tiershift/tiershift/store"
)

func mustDuration(t *testing.T, s string) program.Duration {
	t.Helper()
	d, err := program.ParseDuration(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestExtensionFlagBound(t *testing.T) {
	now := time.Date(2031, 6, 1, 12, 0, 0, 0, time.UTC) // the next 12 months hold a leap day: 366 days
	for by, want := range map[string]string{
		"30d": "", "366d": "", "12 months": "",
		"367d": "more than 366 days", "13 months": "more than 366 days", "99999d": "more than 366 days",
	} {
		err := checkExtensionFlag(mustDuration(t, by), now, false)
		if want == "" && err != nil || want != "" && (err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "--allow-far-deadline")) {
			t.Errorf("--by %s: %v, want %q", by, err, want)
		}
	}
	if err := checkExtensionFlag(mustDuration(t, "500d"), now, true); err != nil {
		t.Errorf("--by 500d --allow-far-deadline: %v", err)
	}
	if err := checkExtensionFlag(mustDuration(t, "99999d"), now, true); err == nil || !strings.Contains(err.Error(), "more than 3653 days") {
		t.Errorf("--by 99999d --allow-far-deadline: %v", err)
	}
}

func TestExtensionBoundFromOriginalDeadline(t *testing.T) {
	p, err := program.Load("program.yaml", []byte(opsProgramYAML))
	if err != nil {
		t.Fatal(err)
	}
	launch := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	camp := store.Campaign{ID: "c", Program: p, LaunchAt: launch}
	// Enterprise: 6 months of grace, to the end of that day (the program
	// names no zone: UTC).
	original := launch.AddDate(0, 6, 1).Add(-time.Second)
	before := time.Date(2030, 3, 1, 0, 0, 0, 0, time.UTC)
	after := original.AddDate(0, 1, 0)
	cases := []struct {
		name     string
		current  time.Time
		by       string
		now      time.Time
		allowFar bool
		want     string // "" when accepted
	}{
		{"first extension", time.Time{}, "30d", before, false, ""},
		{"up to the bound", time.Time{}, "366d", before, false, ""},
		{"past the bound", time.Time{}, "367d", before, false, "is more than 366 days after the original deadline 2030-07-01 23:59 UTC; give --allow-far-deadline"},
		{"extensions add up", original.AddDate(0, 0, 300), "100d", before, false, "2031-08-05 23:59 UTC (2031-04-27 23:59 UTC + 100 days) is more than 366 days"},
		{"told explicitly", original.AddDate(0, 0, 300), "100d", before, true, ""},
		{"far even when told", original.AddDate(0, 0, 3600), "100d", before, true, "more than 3653 days"},
		{"still in the past", time.Time{}, "10d", after, false, "is in the past; now is 2030-08-01 23:59 UTC"},
		{"in the past when told", time.Time{}, "10d", after, true, "is in the past"},
		{"an old tier without transition", time.Time{}, "30d", before, false, `partner p1: `},
	}
	for _, c := range cases {
		m := member{PartnerID: "p1", OldTier: "Enterprise", Deadline: c.current}
		if c.name == "an old tier without transition" {
			m.OldTier = "Platinum"
		}
		err := checkExtension(camp, m, mustDuration(t, c.by), c.now, c.allowFar)
		if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
}

// TestExtendBoundsRefuseBeforeSending runs the bounds against the dev server:
// a refused extension exits 2, names the dates, and no partner it would
// have reached gets any extension; --allow-far-deadline lets it through.
func TestExtendBoundsRefuseBeforeSending(t *testing.T) {
	f := opsTemporal(t, true)
	f.seed([2]string{"p1", "Enterprise"}, [2]string{"p2", "Enterprise"})
	opsMust(t, "launch", "--campaign", f.campaign, "--program", f.program)
	f.waitVisible("", 2)
	original := f.waitStatus("p1").Deadline
	extensions := func(p string) int { return len(f.waitStatus(p).Extensions) }
	refused := func(want string, args ...string) {
		t.Helper()
		args = append([]string{"extend", "--campaign", f.campaign, "--reason", "test"}, args...)
		out, errOut, code := opsRun(t, args...)
		if code != exitInput || !strings.Contains(errOut, want) {
			t.Fatalf("%s: exit %d, want %d and %q\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, exitInput, want, out, errOut)
		}
	}

	refused("--by 99999 days is more than 366 days", "--partner", "p1", "--by", "99999d")
	opsMust(t, "extend", "--campaign", f.campaign, "--partner", "p1", "--by", "300d")
	// 300 + 100 days: the sum is past the bound, and the message says which dates.
	refused(fmt.Sprintf("(%s + 100 days) is more than 366 days after the original deadline %s",
		fmtTime(original.AddDate(0, 0, 300)), fmtTime(original)), "--partner", "p1", "--by", "100d")
	if n := extensions("p1"); n != 1 {
		t.Fatalf("p1 has %d extensions after a refusal, want 1", n)
	}
	// A cohort with one partner past the bound: refused as a whole, naming it.
	f.waitVisible(fmt.Sprintf("Deadline > '%s'", original.AddDate(0, 0, 299).Format(time.RFC3339)), 1)
	refused("1 of the 2 partners the query matches are refused; nothing was sent:\n  partner p1:",
		"--query", `OldTier = "Enterprise"`, "--by", "70d")
	if n := extensions("p2"); n != 0 {
		t.Fatalf("p2 has %d extensions after a refused cohort extension", n)
	}
	out := opsMust(t, "extend", "--campaign", f.campaign, "--partner", "p1", "--by", "100d", "--allow-far-deadline")
	if !strings.Contains(out, fmtTime(original.AddDate(0, 0, 400))) || extensions("p1") != 2 {
		t.Errorf("told explicitly: %s", out)
	}
}

// TestRelaunchAtAnotherDateSaysSo: the refusal names the launch dates, not
// a different program.
func TestRelaunchAtAnotherDateSaysSo(t *testing.T) {
	f := opsTemporal(t, false)
	f.seed([2]string{"p1", "Enterprise"})
	opsMust(t, "launch", "--campaign", f.campaign, "--program", f.program, "--launch-at", "2031-04-14")
	_, errOut, code := opsRun(t, "launch", "--campaign", f.campaign, "--program", f.program, "--launch-at", "2031-04-15")
	if code != exitInput || !strings.Contains(errOut, "launch date 2031-04-14T00:00:00Z, this launch says 2031-04-15T00:00:00Z") ||
		!strings.Contains(errOut, "the launch date differs") || strings.Contains(errOut, "program") {
		t.Errorf("exit %d:\n%s", code, errOut)
	}
}
