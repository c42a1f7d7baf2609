package main

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"
)

// hostileCells start with each character OWASP's rule names.
var hostileCells = []string{`=HYPERLINK("http://evil.example","x")`, "+SUM(A1:A9)", "-1+1", "@x", "\tx", "\rx"}

func TestCSVCell(t *testing.T) {
	for _, s := range hostileCells {
		if got := csvCell(s); got != "'"+s {
			t.Errorf("csvCell(%q) = %q, want %q", s, got, "'"+s)
		}
	}
	// Cells that do not start with a formula character are kept: counts and
	// dates the starter writes, and text with '=' or '-' further in.
	for _, s := range []string{"", "p1", "0", "12", "2009-10-14T00:00:00Z", "x=1", " =1", "'=1", "VTSP certification 0/2"} {
		if got := csvCell(s); got != s {
			t.Errorf("csvCell(%q) = %q, want it unchanged", s, got)
		}
	}
}

// TestReportCSVNeutralisesFormulas writes a report whose text cells are
// hostile: each is read back with a leading quote; counts are unchanged.
func TestReportCSVNeutralisesFormulas(t *testing.T) {
	h := hostileCells
	r := report{
		Outcomes:        map[string]int64{},
		Matrix:          []reportCell{{OldTier: h[0], NewTier: h[1], Outcome: h[2], Partners: 3}},
		FailedEmailsFor: []reportFailure{{PartnerID: h[3], Failed: 2, Kinds: []string{h[4]}, LastError: h[5]}},
	}
	var out bytes.Buffer
	if err := r.writeCSV(&out); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&out).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	for _, rec := range recs {
		got[rec[0]] = rec
	}
	want := map[string][]string{
		"tiers":         {"tiers", "'" + h[0], "'" + h[1], "'" + h[2], "", "", "", "3", ""},
		"failed_emails": {"failed_emails", "", "", "", "'" + h[4], "failed", "'" + h[3], "2", "'" + h[5]},
	}
	for section, w := range want {
		if strings.Join(got[section], "|") != strings.Join(w, "|") {
			t.Errorf("%s row = %q, want %q", section, got[section], w)
		}
	}
}

// TestPlanCSVNeutralisesFormulas plans a program whose certification is
// named like a formula: the missing column is read back as text.
func TestPlanCSVNeutralisesFormulas(t *testing.T) {
	dir := t.TempDir()
	prog := planWriteFile(t, dir, "program.yaml", strings.ReplaceAll(opsProgramYAML, "VTSP", `"=HYPERLINK(1)"`))
	partners := planWriteFile(t, dir, "partners.csv", "partner_id,name,email,locale,tier\nP1,Acme,a@x.example,en,Premier\n")
	code, out, errOut := planRun(t, "--program", prog, "--partners", partners, "--at", "2009-10-14", "--format", "csv")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	recs := planCSVRecords(t, out)
	if len(recs) != 2 || recs[1][5] != "'=HYPERLINK(1) certification 0/1" {
		t.Fatalf("records: %q", recs)
	}
}
