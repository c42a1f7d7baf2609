package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/tiershift/tiershift/program"
	"github.com/tiershift/tiershift/store"
	"github.com/tiershift/tiershift/workflows"
)

// recordLaunch stores the campaign's program as a launch would, without
// starting workflows.
func (f *opsFixture) recordLaunch() *program.Program {
	f.t.Helper()
	p, err := program.Load("program.yaml", []byte(opsProgramYAML))
	if err != nil {
		f.t.Fatal(err)
	}
	if err := store.New(f.db.Pool).RecordLaunch(context.Background(), f.campaign, "program.yaml", p, time.Now()); err != nil {
		f.t.Fatal(err)
	}
	return p
}

func TestSignalValidationExitsTwoAndChangesNothing(t *testing.T) {
	f := opsTemporal(t, false)
	f.seed([2]string{"p1", "Enterprise"})
	f.db.Exec(t, `INSERT INTO partners (partner_id, name, email, locale, tier) VALUES ('outsider', 'O', 'o@example.com', 'en', 'Premier')`)

	// Before the launch, the campaign has no program to check against.
	if _, errOut, code := opsRun(t, "signal", "--campaign", f.campaign, "--partner", "p1", "cert-earned", "VTSP"); code != exitInput ||
		!strings.Contains(errOut, "not been launched") {
		t.Fatalf("unlaunched: exit %d\n%s", code, errOut)
	}
	f.recordLaunch()
	cases := map[string]struct {
		args []string
		want string
	}{
		"unknown partner":       {[]string{"--partner", "nobody", "cert-earned", "VTSP"}, "not enrolled"},
		"not enrolled":          {[]string{"--partner", "outsider", "cert-earned", "VTSP"}, "not enrolled"},
		"unknown certification": {[]string{"--partner", "p1", "cert-earned", "CCIE"}, `"CCIE" is not declared`},
		"unknown competency":    {[]string{"--partner", "p1", "competency-earned", "Cooking"}, "Cooking"},
		"negative points":       {[]string{"--partner", "p1", "points-set", "--", "-5"}, "negative"},
		"negative revenue":      {[]string{"--partner", "p1", "revenue-set", "--", "-12000"}, "negative"},
		"garbage points":        {[]string{"--partner", "p1", "points-set", "many"}, `number "many": unexpected character`},
		"negative count":        {[]string{"--partner", "p1", "cert-earned", "VTSP", "--count", "-2"}, "at least 1"},
		"unknown op":            {[]string{"--partner", "p1", "cert-bought", "VTSP"}, "unknown fact operation"},
		"missing name":          {[]string{"--partner", "p1", "cert-earned"}, "needs a name"},
		"unknown campaign":      {[]string{"--partner", "p1", "cert-earned", "VTSP", "--campaign", "no-such-campaign"}, "does not exist"},
	}
	for name, c := range cases {
		args := append([]string{"signal", "--campaign", f.campaign}, c.args...)
		_, errOut, code := opsRun(t, args...)
		if code != exitInput || !strings.Contains(errOut, c.want) {
			t.Errorf("%s: exit %d, want %d and %q in:\n%s", name, code, exitInput, c.want, errOut)
		}
	}
	if n := f.count(`SELECT count(*) FROM partner_fact_changes`); n != 0 {
		t.Errorf("%d fact changes recorded by rejected signals", n)
	}
	if n := f.count(`SELECT count(*) FROM partners WHERE certifications <> '{}'::jsonb OR points <> 0 OR revenue_cents <> 0 OR competencies <> '{}'`); n != 0 {
		t.Errorf("facts changed by rejected signals")
	}
}

func TestExtendExemptWithdrawValidationExitsTwo(t *testing.T) {
	opsDB(t) // no service is reached: the flags are wrong
	for name, args := range map[string][]string{
		"extend negative":        {"extend", "--campaign", "c", "--partner", "p", "--by", "-5d"},
		"extend zero":            {"extend", "--campaign", "c", "--partner", "p", "--by", "0 days"},
		"extend garbage":         {"extend", "--campaign", "c", "--partner", "p", "--by", "soon"},
		"extend no target":       {"extend", "--campaign", "c", "--by", "30d"},
		"extend both targets":    {"extend", "--campaign", "c", "--partner", "p", "--query", "OldTier='A'", "--by", "30d"},
		"extend semicolon":       {"extend", "--campaign", "c", "--query", "OldTier='A'; drop", "--by", "30d"},
		"extend blank query":     {"extend", "--campaign", "c", "--query", "  ", "--by", "30d"},
		"extend wait on partner": {"extend", "--campaign", "c", "--partner", "p", "--by", "30d", "--wait"},
		"exempt no reason":       {"exempt", "--campaign", "c", "--partner", "p"},
		"withdraw no reason":     {"withdraw", "--campaign", "c", "--query", "OldTier='A'"},
		"withdraw blank reason":  {"withdraw", "--campaign", "c", "--partner", "p", "--reason", " "},
	} {
		if _, errOut, code := opsRun(t, args...); code != exitInput {
			t.Errorf("%s: exit %d, want %d\n%s", name, code, exitInput, errOut)
		}
	}
	if q := cohortQuery(`it's\x`, `OldTier = "A"`); q != `WorkflowType = 'PartnerTransition' AND CampaignId = 'it\'s\\x' AND ExecutionStatus = 'Running' AND (OldTier = "A")` {
		t.Errorf("cohort query: %s", q)
	}
}

func TestSignalExtendWithdrawAndStatus(t *testing.T) {
	f := opsTemporal(t, true)
	f.seed([2]string{"p1", "Enterprise"}, [2]string{"p2", "Enterprise"}, [2]string{"p3", "Premier"})
	opsMust(t, "launch", "--campaign", f.campaign, "--program", f.program)
	f.waitVisible("", 3)

	// A fact: recorded in Postgres, and the workflow re-evaluates at once.
	out := opsMust(t, "signal", "--campaign", f.campaign, "--partner", "p1", "cert-earned", "VTSP", "--count", "2", "--actor", "lms")
	if !strings.Contains(out, "Recorded cert-earned VTSP x2") || !strings.Contains(out, "Stage:") || !strings.Contains(out, "Infrastructure Virtualization") {
		t.Fatalf("signal output:\n%s", out)
	}
	if strings.Contains(out, "certification VTSP") {
		t.Errorf("VTSP still missing after the signal:\n%s", out)
	}
	if n := f.count(`SELECT count(*) FROM partner_fact_changes WHERE partner_id = 'p1' AND change_id IS NOT NULL AND source LIKE '%lms%'`); n != 1 {
		t.Errorf("fact change rows: %d", n)
	}

	// Status of one partner, readable and as JSON.
	out = opsMust(t, "status", "--campaign", f.campaign, "--partner", "p1")
	for _, want := range []string{"Stage:", "Deadline:", "expected Gold", "Reminders sent:", "Outcome:"} {
		if !strings.Contains(out, want) {
			t.Errorf("status lacks %q:\n%s", want, out)
		}
	}
	var st workflows.Status
	if err := json.Unmarshal([]byte(opsMust(t, "status", "--campaign", f.campaign, "--partner", "p1", "--format", "json")), &st); err != nil || st.PartnerID != "p1" {
		t.Fatalf("status json: %v %+v", err, st)
	}
	before := st.Deadline

	// Extend one partner: the new deadline is printed.
	out = opsMust(t, "extend", "--campaign", f.campaign, "--partner", "p1", "--by", "30d", "--reason", "audit delayed")
	want := before.AddDate(0, 0, 30)
	if !strings.Contains(out, fmtTime(want)) {
		t.Errorf("extend output %q lacks %s", out, fmtTime(want))
	}

	// Extend a cohort with a batch signal.
	f.waitVisible("OldTier = 'Enterprise' AND ExecutionStatus = 'Running'", 2)
	out = opsMust(t, "extend", "--campaign", f.campaign, "--query", `OldTier = "Enterprise"`, "--by", "1 week", "--wait")
	if !strings.Contains(out, "2 running workflows match") || !strings.Contains(out, "completed") {
		t.Fatalf("batch extend:\n%s", out)
	}
	waitFor(t, "p2's deadline to move", func() bool {
		var s workflows.Status
		v, err := f.tc.QueryWorkflow(context.Background(), workflows.WorkflowID(f.campaign, "p2"), "", workflows.QueryStatus)
		return err == nil && v.Get(&s) == nil && len(s.Extensions) == 1 && s.Extensions[0].By.Days == 7
	})

	// Withdraw one partner: its workflow ends, status still answers.
	opsMust(t, "withdraw", "--campaign", f.campaign, "--partner", "p3", "--reason", "left the channel")
	waitFor(t, "p3's workflow to finish withdrawn", func() bool {
		out, _, code := opsRun(t, "status", "--campaign", f.campaign, "--partner", "p3")
		return code == 0 && strings.Contains(out, "withdrawn") && strings.Contains(out, "done")
	})
	// A fact for a finished partner is recorded, and the output says so.
	out = opsMust(t, "signal", "--campaign", f.campaign, "--partner", "p3", "points-set", "120")
	if !strings.Contains(out, "already closed") {
		t.Errorf("signal to a closed workflow:\n%s", out)
	}
	if n := f.count(`SELECT count(*) FROM partners WHERE partner_id = 'p3' AND points = 120`); n != 1 {
		t.Errorf("fact for a closed workflow not recorded")
	}
	// Deciding on it again is refused.
	if _, errOut, code := opsRun(t, "exempt", "--campaign", f.campaign, "--partner", "p3", "--reason", "x"); code == 0 {
		t.Errorf("exempt of a closed workflow succeeded:\n%s", errOut)
	}

	// The campaign status from Postgres.
	out = opsMust(t, "status", "--campaign", f.campaign)
	for _, want := range []string{"By stage:", "By outcome:", "withdrawn", "Emails:", "Next deadlines:", "p1"} {
		if !strings.Contains(out, want) {
			t.Errorf("campaign status lacks %q:\n%s", want, out)
		}
	}
}

// waitFor polls cond until it holds or 30 seconds pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(250 * time.Millisecond)
	}
}
