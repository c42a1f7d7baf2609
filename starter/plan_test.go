package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tiershift/tiershift/internal/exampletest"
)

const (
	vmwareProgram  = "../examples/vmware-2009/program.yaml"
	vmwarePartners = "../examples/vmware-2009/partners.csv"
)

func planRun(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = runWith(append([]string{"plan"}, args...), &out, &errb)
	return code, out.String(), errb.String()
}

type planJSONOutput struct {
	At       string `json:"at"`
	Program  string `json:"program"`
	Partners []struct {
		PartnerID     string `json:"partner_id"`
		OldTier       string `json:"old_tier"`
		ExpectedTier  string `json:"expected_tier"`
		NewTier       string `json:"new_tier"`
		Outcome       string `json:"outcome"`
		MeetsExpected bool   `json:"meets_expected"`
		Missing       []struct {
			Kind    string   `json:"kind"`
			Name    string   `json:"name"`
			Options []string `json:"options"`
			Have    int64    `json:"have"`
			Need    int64    `json:"need"`
		} `json:"missing"`
	} `json:"partners"`
	Totals struct {
		Outcome  map[string]int `json:"outcome"`
		NewTier  map[string]int `json:"new_tier"`
		Partners int            `json:"partners"`
	} `json:"totals"`
}

func TestPlanJSONVMware(t *testing.T) {
	code, out, errOut := planRun(t, "--program", vmwareProgram, "--partners", vmwarePartners, "--at", "2009-10-14", "--format", "json")
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d, stderr:\n%s", code, errOut)
	}
	dec := json.NewDecoder(strings.NewReader(out))
	var got planJSONOutput
	if err := dec.Decode(&got); err != nil {
		t.Fatalf("decode: %v\n%s", err, out)
	}
	if dec.More() {
		t.Error("more than one JSON value on stdout")
	}
	if got.At != "2009-10-14T00:00:00Z" || got.Program != "vmware-2009" || len(got.Partners) != 16 {
		t.Errorf("at=%q program=%q partners=%d", got.At, got.Program, len(got.Partners))
	}
	want := evaluateFiles(t, vmwareProgram, vmwarePartners)
	if !planMapsEqual(got.Totals.Outcome, want.outcome) || !planMapsEqual(got.Totals.NewTier, want.newTier) || got.Totals.Partners != want.partners {
		t.Errorf("totals = %+v, want %+v", got.Totals, want)
	}
	byID := map[string]int{}
	for i, p := range got.Partners {
		byID[p.PartnerID] = i
	}
	p2 := got.Partners[byID["VMW-002"]]
	if p2.NewTier != "Professional" || p2.Outcome != "demoted" || len(p2.Missing) != 1 || p2.Missing[0].Kind != "revenue" || p2.Missing[0].Have != 850000 || p2.Missing[0].Need != 1000000 {
		t.Errorf("VMW-002 = %+v", p2)
	}
	p6 := got.Partners[byID["VMW-006"]]
	if len(p6.Missing) != 1 || p6.Missing[0].Kind != "choice" || p6.Missing[0].Have != 1 || p6.Missing[0].Need != 2 || len(p6.Missing[0].Options) != 3 {
		t.Errorf("VMW-006 = %+v", p6)
	}
	p1 := got.Partners[byID["VMW-001"]]
	if p1.Outcome != "kept" || !p1.MeetsExpected || p1.Missing == nil || len(p1.Missing) != 0 {
		t.Errorf("VMW-001 = %+v", p1)
	}
	p8 := got.Partners[byID["VMW-008"]]
	if p8.NewTier != "Enterprise" || p8.Outcome != "promoted" {
		t.Errorf("VMW-008 = %+v", p8)
	}
}

// derivedTotals are a forecast's totals as the test derives them.
type derivedTotals struct {
	outcome, newTier map[string]int
	partners         int
}

// evaluateFiles derives the totals a forecast must print from the rules
// themselves: each row of the partner file evaluated by program.Evaluate.
func evaluateFiles(t *testing.T, programFile, partnersFile string) derivedTotals {
	t.Helper()
	prog := exampletest.Program(t, programFile)
	tot := derivedTotals{outcome: map[string]int{}, newTier: map[string]int{}}
	for _, row := range exampletest.Partners(t, partnersFile) {
		ev, err := prog.Evaluate(row.Tier, row.Facts)
		if err != nil {
			t.Fatalf("%s: %v", row.PartnerID, err)
		}
		tot.outcome[string(ev.Outcome)]++
		tot.newTier[ev.NewTier]++
		tot.partners++
	}
	return tot
}

func planMapsEqual(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if bv, ok := b[k]; !ok || bv != v {
			return false
		}
	}
	return true
}

func TestPlanTable(t *testing.T) {
	code, out, errOut := planRun(t, "--program", vmwareProgram, "--partners", vmwarePartners, "--at", "2009-10-14T09:00:00+02:00")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	totals := evaluateFiles(t, vmwareProgram, vmwarePartners)
	for _, want := range []string{
		"at 2009-10-14T09:00:00+02:00",
		"PARTNER_ID  OLD_TIER",
		"revenue 8500/10000 USD",
		"VTSP certification 1/2",
		"Infrastructure Virtualization competency",
		"2 of [Business Continuity, Desktop Virtualization, Virtualization Management] (have 1)",
		fmt.Sprintf("Totals (%d partners)", totals.partners),
		fmt.Sprintf("outcome   demoted       %d", totals.outcome["demoted"]),
		fmt.Sprintf("new tier  Registered    %d", totals.newTier["Registered"]),
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
	// Columns align: every partner line has its new tier at the same offset.
	col := -1
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "VMW-") {
			i := strings.Index(line, "  kept  ")
			if i < 0 {
				i = strings.Index(line, "  demoted")
			}
			if i < 0 {
				i = strings.Index(line, "  promoted")
			}
			if col >= 0 && i != col {
				t.Errorf("misaligned line %q", line)
			}
			col = i
		}
	}
}

func TestPlanCSV(t *testing.T) {
	code, out, errOut := planRun(t, "--program", vmwareProgram, "--partners", vmwarePartners, "--at", "2009-10-14", "--format", "csv")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	recs := planCSVRecords(t, out)
	if len(recs) != 17 || strings.Join(recs[0], ",") != "partner_id,old_tier,expected_tier,new_tier,outcome,missing,deadline,time_zone" {
		t.Fatalf("records: %v", recs)
	}
	if !strings.Contains(out, "# total outcome demoted: 8") || !strings.Contains(out, "2009-10-14T00:00:00Z") {
		t.Errorf("totals or date missing:\n%s", out)
	}
	for _, rec := range recs[1:] {
		if rec[0] == "VMW-016" && rec[5] != "VTSP certification 0/2; Infrastructure Virtualization competency; revenue 0/10000 USD" {
			t.Errorf("VMW-016 missing = %q", rec[5])
		}
	}
}

// planCSVRecords reads plan's CSV output, skipping its "#" comment lines.
func planCSVRecords(t *testing.T, out string) [][]string {
	t.Helper()
	r := csv.NewReader(strings.NewReader(out))
	r.Comment = '#'
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

func planWriteFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

const badPartners = `partner_id,name,email,locale,tier,revenue,certifications,competencies
VMW-1,Good One,good@x.example,en,Enterprise,10000,VTSP:2,Infrastructure Virtualization
VMW-2,Bad Email,not-an-email,fr,Enterprise,,,
VMW-1,Duplicate,dup@x.example,en,Premier,,,
VMW-4,Unknown Tier,t@x.example,en,Gold,,VCP:1,Cooking
VMW-5,Fine Too,fine@x.example,fr,Professional,,VTSP,
`

func TestPlanListsEveryError(t *testing.T) {
	dir := t.TempDir()
	partners := planWriteFile(t, dir, "partners.csv", badPartners)
	code, out, errOut := planRun(t, "--program", vmwareProgram, "--partners", partners, "--format", "json")
	if code != 2 {
		t.Errorf("exit %d, want 2", code)
	}
	if out != "" {
		t.Errorf("stdout not empty:\n%s", out)
	}
	for _, want := range []string{
		`partners.csv:3:17: email: "not-an-email" is not an email address`,
		`partners.csv:4:1: partner_id: "VMW-1" is already used on line 2`,
		`partners.csv:5:35: tier: "Gold" is not a tier of the old program (old tiers: Professional, Enterprise, Premier)`,
		`partners.csv:5:41: certifications: "VCP" is not declared`,
		`partners.csv:5:47: competencies: "Cooking" is not declared`,
		"starter: 0 problem(s) in the program or the partner file's header and 3 invalid partner row(s)",
	} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}

	// Program problems and row problems are listed together.
	prog, err := os.ReadFile(vmwareProgram)
	if err != nil {
		t.Fatal(err)
	}
	broken := strings.Replace(string(prog), "{competency: Infrastructure Virtualization}", "{competency: Infra Virtualization}", 1)
	broken = strings.Replace(broken, "currency: USD", "curency: USD", 1)
	progPath := planWriteFile(t, dir, "program.yaml", broken)
	code, out, errOut = planRun(t, "--program", progPath, "--partners", partners)
	if code != 2 || out != "" {
		t.Errorf("exit %d, stdout %q", code, out)
	}
	for _, want := range []string{
		`program.yaml:9: program.curency: unknown key "curency" (did you mean "currency"?)`,
		`program.currency: is required`,
		`"Infra Virtualization" is not declared in catalog.competencies`,
		`partners.csv:3:17: email:`,
		`partners.csv:4:1: partner_id:`,
	} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
}

func TestPlanSkipInvalid(t *testing.T) {
	dir := t.TempDir()
	partners := planWriteFile(t, dir, "partners.csv", badPartners)
	code, out, errOut := planRun(t, "--program", vmwareProgram, "--partners", partners, "--format", "json", "--skip-invalid", "--at", "2009-10-14")
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, errOut)
	}
	var got planJSONOutput
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	if got.Totals.Partners != 2 || len(got.Partners) != 2 || got.Partners[0].PartnerID != "VMW-1" || got.Partners[1].PartnerID != "VMW-5" {
		t.Errorf("forecast = %+v", got)
	}
	for _, want := range []string{"skipped: ", "partners.csv:3:17: email:", "partners.csv:5:35: tier:", "skipped 3 invalid partner row(s)"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
}

func TestPlanInputErrors(t *testing.T) {
	dir := t.TempDir()
	header := planWriteFile(t, dir, "h.csv", "partner_id;nom;email\n")
	cases := []struct {
		name string
		args []string
		want []string
	}{
		{"bad format", []string{"--program", vmwareProgram, "--partners", vmwarePartners, "--format", "xml"}, []string{`--format "xml" must be table, json or csv`}},
		{"bad at", []string{"--program", vmwareProgram, "--partners", vmwarePartners, "--at", "14/10/2009"}, []string{`--at "14/10/2009" must be a date`}},
		{"missing flag", []string{"--partners", vmwarePartners}, []string{`required flag`}},
		{"missing files", []string{"--program", filepath.Join(dir, "nope.yaml"), "--partners", filepath.Join(dir, "nope.csv")}, []string{"nope.yaml", "nope.csv"}},
		{"bad header", []string{"--program", vmwareProgram, "--partners", header}, []string{`h.csv:1:12: nom: unknown column "nom"`, `h.csv:1: tier: required column "tier" is missing`, `h.csv:1: name: required column "name"`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, out, errOut := planRun(t, c.args...)
			if code != 2 || out != "" {
				t.Errorf("exit %d, stdout %q", code, out)
			}
			for _, w := range c.want {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr lacks %q:\n%s", w, errOut)
				}
			}
		})
	}
	// run, as main calls it, exits 2 too.
	if code := run([]string{"plan", "--program", vmwareProgram, "--partners", vmwarePartners, "--format", "xml"}); code != 2 {
		t.Errorf("run exit %d, want 2", code)
	}
}

func TestPlanAllExamples(t *testing.T) {
	dirs, err := filepath.Glob("../examples/*/program.yaml")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no example program found (%v)", err)
	}
	for _, prog := range dirs {
		partners := filepath.Join(filepath.Dir(prog), "partners.csv")
		code, _, errOut := planRun(t, "--program", prog, "--partners", partners, "--format", "json")
		if code != 0 {
			t.Errorf("%s: exit %d\n%s", prog, code, errOut)
		}
	}
}
