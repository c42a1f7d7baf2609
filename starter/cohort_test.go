package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"

	"github.com/tiershift/tiershift/program"
	"github.com/tiershift/tiershift/workflows"
)

func TestCohortFilterAcceptsNarrowingFilters(t *testing.T) {
	for _, q := range []string{
		`OldTier="Enterprise"`,
		`OldTier = 'Enterprise' AND MeetsExpected = false`,
		`(OldTier="A" OR OldTier="B") AND Deadline < "2010-01-14T00:00:00Z"`,
		`OldTier IN ("A", "B") AND NOT (Stage = 'done')`,
		`OldTier = "it's (odd"`,  // a parenthesis inside a string is text
		`OldTier = 'a\')'`,       // a backslash escapes the quote: one string
		`OldTier = 'a'')' AND x`, // a doubled quote is a quote: one string
		`Points >= -5`,
	} {
		if f, err := parseCohortFilter(q); err != nil || string(f) != q {
			t.Errorf("%s: refused: %v", q, err)
		}
	}
}

func TestCohortFilterRefusesEscapes(t *testing.T) {
	for q, want := range map[string]string{
		`OldTier="none") OR (CampaignId="B" AND PartnerId="P1"`: "')' without its '('",
		`OldTier="none") OR (PartnerId="P1"`:                    "')' without its '('",
		`CampaignId="B"`:                                        "names CampaignId",
		`campaignid = 'B' OR OldTier = 'A'`:                     "names CampaignId",
		`(OldTier="A"`:                                          "1 '(' not closed",
		`OldTier="A`:                                            "string not closed",
		`OldTier='A\'`:                                          "string not closed",
		`OldTier="A"; DELETE`:                                   `unexpected ';'`,
		`OldTier="A" /* ( */ ) OR (PartnerId="x" /* ) */`:       `unexpected '/'`,
		`OldTier="A" -- x`:                                      `unexpected '-'`,
		`OldTier="A" # x`:                                       `unexpected '#'`,
		"`CampaignId`=\"B\"":                                    "unexpected '`'",
		"  ":                                                    "--query is empty",
		strings.Repeat("x", maxCohortFilter+1):                  "bytes long",
	} {
		if _, err := parseCohortFilter(q); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want %q", q, err, want)
		}
	}
}

// TestCohortOperationsStayInTheirCampaign runs the injection of issue 13 and
// a query naming another campaign through extend, exempt and withdraw against
// the dev server: each exits 2 and the partner of the other campaign keeps
// its deadline and stage. The check of every listed workflow is tested on
// its own, with a filter that escapes (as one would if the parser let it).
func TestCohortOperationsStayInTheirCampaign(t *testing.T) {
	f := opsTemporal(t, true)
	f.seed([2]string{"p1", "Enterprise"})
	other := *f
	other.campaign = "other-" + randomID()
	other.seed([2]string{"q1", "Enterprise"})
	t.Cleanup(other.terminateAll)
	opsMust(t, "launch", "--campaign", f.campaign, "--program", f.program)
	opsMust(t, "launch", "--campaign", other.campaign, "--program", f.program)
	f.waitVisible("", 1)
	other.waitVisible("", 1)
	before := other.waitStatus("q1")

	injection := fmt.Sprintf(`OldTier="none") OR (CampaignId="%s" AND PartnerId="q1"`, other.campaign)
	outright := fmt.Sprintf(`CampaignId="%s"`, other.campaign)
	for _, args := range [][]string{
		{"extend", "--query", injection, "--by", "30d"},
		{"extend", "--query", outright, "--by", "30d"},
		{"exempt", "--query", injection, "--reason", "x"},
		{"withdraw", "--query", outright, "--reason", "x"},
	} {
		args = append(args, "--campaign", f.campaign)
		out, errOut, code := opsRun(t, args...)
		if code != exitInput || !strings.Contains(errOut, "--query") || strings.Contains(out, "batch operation") {
			t.Errorf("%s: exit %d, want %d and a --query message\nstdout:\n%s\nstderr:\n%s", args[0], code, exitInput, out, errOut)
		}
	}

	// The second guard alone: the escaping filter reaches the server, and
	// the listed workflow of the other campaign stops everything.
	env, err := openOps(context.Background(), io.Discard, true)
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()
	tg := target{campaign: f.campaign, query: injection, actor: "test"}
	camp, err := env.loadCampaign(context.Background(), f.campaign)
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	err = env.batchSignal(context.Background(), &out, tg, cohortFilter(injection), camp, decision{name: workflows.MessageExtend,
		msg: func(id string) any {
			return workflows.ExtendDeadline{ID: id, By: program.Duration{Days: 1}, Reason: "x"}
		}})
	if err == nil || !errors.As(err, new(inputError)) || !strings.Contains(err.Error(), "outside campaign") ||
		!strings.Contains(err.Error(), workflows.WorkflowID(other.campaign, "q1")) {
		t.Errorf("escaping filter: %v\n%s", err, out.String())
	}

	// A legitimate cohort action on the campaign runs to completion; the
	// other campaign's partner is still as it was.
	opsMust(t, "extend", "--campaign", f.campaign, "--query", `OldTier="Enterprise"`, "--by", "7d", "--wait")
	waitFor(t, "p1's deadline to move", func() bool { return len(f.waitStatus("p1").Extensions) == 1 })
	after := other.waitStatus("q1")
	if !after.Deadline.Equal(before.Deadline) || after.Stage != before.Stage || len(after.Extensions) != 0 {
		t.Errorf("partner of the other campaign changed: before %v %s, after %v %s %v",
			before.Deadline.Format(time.RFC3339), before.Stage, after.Deadline.Format(time.RFC3339), after.Stage, after.Extensions)
	}
}

// TestCheckMember checks both marks of a campaign's transition on their own:
// its workflow ID and its CampaignId search attribute must both name it.
func TestCheckMember(t *testing.T) {
	sa := func(campaign string) *common.SearchAttributes {
		p, err := converter.GetDefaultDataConverter().ToPayload(campaign)
		if err != nil {
			t.Fatal(err)
		}
		return &common.SearchAttributes{IndexedFields: map[string]*common.Payload{workflows.CampaignIDKey.GetName(): p}}
	}
	if err := checkMember("A", workflows.WorkflowID("A", "p1"), sa("A")); err != nil {
		t.Errorf("a member of A refused: %v", err)
	}
	for name, c := range map[string]struct {
		id string
		sa *common.SearchAttributes
	}{
		"another campaign's ID":            {workflows.WorkflowID("B", "p1"), sa("A")},
		"another campaign's attribute":     {workflows.WorkflowID("A", "p1"), sa("B")},
		"no attribute":                     {workflows.WorkflowID("A", "p1"), nil},
		"not a transition":                 {"payroll/A/p1", sa("A")},
		"campaign that prefixes the other": {workflows.WorkflowID("A-2", "p1"), sa("A")},
	} {
		if err := checkMember("A", c.id, c.sa); err == nil || !errors.As(err, new(inputError)) || !strings.Contains(err.Error(), "outside campaign") {
			t.Errorf("%s: %v", name, err)
		}
	}
}
