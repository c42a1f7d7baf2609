package main

import (
	"context"
	"errors"
	"strings"
	"testing"

	"go.temporal.io/api/serviceerror"

	"github.com/tiershift/tiershift/workflows"
)

// Every command that takes --campaign or --partner checks it with the one ID
// rule while parsing flags: exit 2, the rule named, before any service is
// touched (none is needed for this test).
func TestEveryCommandRefusesIDsThatBreakTheRule(t *testing.T) {
	t.Setenv("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none")
	t.Setenv("TEMPORAL_ADDRESS", "127.0.0.1:1")
	withCampaign := [][]string{
		{"import", "--program", "p.yaml", "x.csv"},
		{"launch", "--program", "p.yaml"},
		{"status"},
		{"report"},
		{"signal", "--partner", "p1", "cert-earned", "VTSP"},
		{"extend", "--partner", "p1", "--by", "1d"},
		{"exempt", "--partner", "p1", "--reason", "r"},
		{"withdraw", "--partner", "p1", "--reason", "r"},
	}
	for _, args := range withCampaign {
		for bad, want := range map[string]string{
			"c/x":                     `campaign ID "c/x" has '/' at byte 2`,
			"caf\u00e9":               `has a non-ASCII character at byte 4`,
			"a\tb":                    `'\t' at byte 2`,
			strings.Repeat("c", 65):   "is 65 bytes long",
			"":                        "campaign ID is empty",
			"OldTier=\"x\") OR (true": `'=' at byte 8`,
		} {
			full := append(append([]string{}, args...), "--campaign", bad)
			_, errOut, code := opsRun(t, full...)
			if code != 2 || !strings.Contains(errOut, want) {
				t.Errorf("starter %s: exit %d, stderr %q; want exit 2 and %q", args[0], code, errOut, want)
			}
		}
	}
	withPartner := [][]string{
		{"status", "--campaign", "c"},
		{"signal", "--campaign", "c", "cert-earned", "VTSP"},
		{"extend", "--campaign", "c", "--by", "1d"},
		{"exempt", "--campaign", "c", "--reason", "r"},
		{"withdraw", "--campaign", "c", "--reason", "r"},
		{"preview", "--program", "p.yaml", "--partners", "x.csv", "--kind", "reminder"},
	}
	for _, args := range withPartner {
		full := append(append([]string{}, args...), "--partner", "x/y")
		_, errOut, code := opsRun(t, full...)
		if code != 2 || !strings.Contains(errOut, `partner ID "x/y" has '/' at byte 2`) {
			t.Errorf("starter %s --partner x/y: exit %d, stderr %q", args[0], code, errOut)
		}
	}
}

// Rows stored before the rule (here inserted by hand) are named at launch
// and nothing is started, not even for the valid partners: partner x/y of
// campaign C would have had the workflow ID of partner y of campaign C/x.
func TestLaunchNamesStoredIDsThatBreakTheRule(t *testing.T) {
	f := opsTemporal(t, false)
	f.seed([2]string{"ok-1", "Enterprise"}, [2]string{"x/y", "Premier"}, [2]string{"tab\there", "Premier"})
	_, errOut, code := opsRun(t, "launch", "--campaign", f.campaign, "--program", f.program)
	if code != 2 {
		t.Fatalf("exit %d, want 2; stderr:\n%s", code, errOut)
	}
	for _, want := range []string{"2 enrolled partner(s) whose ID breaks the ID rule; nothing was started",
		`partner ID "tab\there" has '\t' at byte 4`, `partner ID "x/y" has '/' at byte 2`} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	_, err := f.tc.DescribeWorkflowExecution(context.Background(), workflows.WorkflowID(f.campaign, "ok-1"), "")
	var nf *serviceerror.NotFound
	if !errors.As(err, &nf) {
		t.Errorf("the valid partner's workflow: %v, want not found (nothing started)", err)
	}
	if n := f.count(`SELECT count(*) FROM campaigns WHERE campaign_id = $1 AND program_id IS NOT NULL`, f.campaign); n != 0 {
		t.Errorf("the refused launch recorded the program")
	}
}
