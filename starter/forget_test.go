package main

import (
	"strings"
	"testing"
)

func TestForgetValidationExitsTwo(t *testing.T) {
	opsDB(t)
	for _, args := range [][]string{
		{"forget", "--reason", "r"},
		{"forget", "--partner", "p1", "--campaign", "c", "--reason", "r"},
		{"forget", "--partner", "p1"},
	} {
		if _, errOut, code := opsRun(t, args...); code != exitInput {
			t.Errorf("%v: exit %d, want %d\n%s", args, code, exitInput, errOut)
		}
	}
}

func TestForgetRefusesWhileRunningThenWithdrawsErasesAndRepeatsNothing(t *testing.T) {
	f := opsTemporal(t, true)
	f.seed([2]string{"p1", "Enterprise"}, [2]string{"p2", "Premier"})
	opsMust(t, "launch", "--campaign", f.campaign, "--program", f.program)
	f.waitStatus("p1")

	personal := `SELECT count(*) FROM partners WHERE partner_id = $1 AND name <> '' AND email <> ''`
	_, errOut, code := opsRun(t, "forget", "--partner", "p1", "--reason", "GDPR request 17")
	if code != exitInput || !strings.Contains(errOut, "still run") || !strings.Contains(errOut, "transition/"+f.campaign+"/p1") {
		t.Fatalf("forget of a running partner: exit %d\n%s", code, errOut)
	}
	if f.count(personal, "p1") != 1 || f.count(`SELECT count(*) FROM erasures`) != 0 {
		t.Fatal("a refused erasure changed something")
	}
	if _, errOut, code := opsRun(t, "forget", "--campaign", f.campaign, "--reason", "campaign purge"); code != exitInput {
		t.Fatalf("forget of a running campaign: exit %d\n%s", code, errOut)
	}

	out := opsMust(t, "forget", "--partner", "p1", "--reason", "GDPR request 17", "--withdraw", "--actor", "dpo")
	for _, want := range []string{"Withdrew transition/" + f.campaign + "/p1", "Partner p1: name and email address erased",
		"Temporal keeps the history of transition/" + f.campaign + "/p1", "retention of"} {
		if !strings.Contains(out, want) {
			t.Errorf("forget output lacks %q:\n%s", want, out)
		}
	}
	if f.count(personal, "p1") != 0 || f.count(personal, "p2") != 1 {
		t.Error("p1 kept its name or address, or p2 lost its")
	}
	if n := f.count(`SELECT count(*) FROM erasures WHERE partner_id = 'p1' AND actor = 'dpo' AND reason = 'GDPR request 17'`); n != 1 {
		t.Errorf("%d audit rows", n)
	}
	// The erased partner's transition still answers its status Query, and
	// the status command reads it.
	if out := opsMust(t, "status", "--campaign", f.campaign, "--partner", "p1"); !strings.Contains(out, "withdrawn") {
		t.Errorf("status after erasure:\n%s", out)
	}

	out = opsMust(t, "forget", "--partner", "p1", "--reason", "GDPR request 17")
	if !strings.Contains(out, "already erased") || f.count(`SELECT count(*) FROM erasures`) != 1 {
		t.Errorf("second forget:\n%s", out)
	}
	if _, errOut, code := opsRun(t, "forget", "--partner", "nobody", "--reason", "r"); code != exitInput {
		t.Errorf("unknown partner: exit %d\n%s", code, errOut)
	}
}
