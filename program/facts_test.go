package program

import (
	"reflect"
	"strings"
	"testing"
)

func TestApply(t *testing.T) {
	base := Facts{Certifications: map[string]int{"VTSP": 2}, Competencies: []string{"Business Continuity"}, Revenue: 500, Points: 3}
	cases := []struct {
		c    FactChange
		want Facts
	}{
		{FactChange{Op: OpCertEarned, Name: "VTSP"}, Facts{Certifications: map[string]int{"VTSP": 3}, Competencies: []string{"Business Continuity"}, Revenue: 500, Points: 3}},
		{FactChange{Op: OpCertEarned, Name: "VSP", Count: 2}, Facts{Certifications: map[string]int{"VTSP": 2, "VSP": 2}, Competencies: []string{"Business Continuity"}, Revenue: 500, Points: 3}},
		{FactChange{Op: OpCertLost, Name: "VTSP"}, Facts{Certifications: map[string]int{"VTSP": 1}, Competencies: []string{"Business Continuity"}, Revenue: 500, Points: 3}},
		{FactChange{Op: OpCertLost, Name: "VTSP", Count: 5}, Facts{Competencies: []string{"Business Continuity"}, Revenue: 500, Points: 3}},
		{FactChange{Op: OpCertLost, Name: "VSP"}, Facts{Certifications: map[string]int{"VTSP": 2}, Competencies: []string{"Business Continuity"}, Revenue: 500, Points: 3}},
		{FactChange{Op: OpCompetencyEarned, Name: "Aardvark"}, Facts{Certifications: map[string]int{"VTSP": 2}, Competencies: []string{"Aardvark", "Business Continuity"}, Revenue: 500, Points: 3}},
		{FactChange{Op: OpCompetencyEarned, Name: "Business Continuity"}, Facts{Certifications: map[string]int{"VTSP": 2}, Competencies: []string{"Business Continuity"}, Revenue: 500, Points: 3}},
		{FactChange{Op: OpCompetencyLost, Name: "Business Continuity"}, Facts{Certifications: map[string]int{"VTSP": 2}, Revenue: 500, Points: 3}},
		{FactChange{Op: OpModuleAdded, Name: "Resell"}, Facts{Certifications: map[string]int{"VTSP": 2}, Competencies: []string{"Business Continuity"}, Modules: []string{"Resell"}, Revenue: 500, Points: 3}},
		{FactChange{Op: OpRevenueSet, Revenue: 42}, Facts{Certifications: map[string]int{"VTSP": 2}, Competencies: []string{"Business Continuity"}, Revenue: 42, Points: 3}},
		{FactChange{Op: OpPointsSet, Points: 0}, Facts{Certifications: map[string]int{"VTSP": 2}, Competencies: []string{"Business Continuity"}, Revenue: 500}},
	}
	for _, c := range cases {
		before := base.Clone()
		got := base.Apply(c.c)
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("Apply(%+v) = %+v, want %+v", c.c, got, c.want)
		}
		if !reflect.DeepEqual(base, before) {
			t.Errorf("Apply(%+v) modified its receiver: %+v", c.c, base)
		}
	}
}

func TestApplyDoesNotAlias(t *testing.T) {
	comps := make([]string, 1, 10) // spare capacity invites aliasing bugs
	comps[0] = "B"
	f := Facts{Certifications: map[string]int{"X": 1}, Competencies: comps, Modules: []string{"M"}}
	g := f.Apply(FactChange{Op: OpCompetencyEarned, Name: "A"})
	g.Certifications["X"] = 99
	g.Competencies[0] = "Z"
	g.Modules[0] = "Z"
	if f.Certifications["X"] != 1 || f.Competencies[0] != "B" || f.Modules[0] != "M" || comps[:2][1] != "" {
		t.Errorf("Apply result aliases its input: %+v (backing %q)", f, comps[:2])
	}
	h := f.Clone()
	h.Certifications["X"] = 7
	h.Competencies[0] = "Q"
	if f.Certifications["X"] != 1 || f.Competencies[0] != "B" {
		t.Error("Clone aliases its input")
	}
}

func TestNormalize(t *testing.T) {
	f := Facts{Certifications: map[string]int{"A": 0, "B": 2, "C": -1}, Competencies: []string{"z", "a", "z"}, Modules: []string{}}
	got := f.Normalize()
	want := Facts{Certifications: map[string]int{"B": 2}, Competencies: []string{"a", "z"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Normalize = %+v, want %+v", got, want)
	}
	if f.Competencies[0] != "z" || len(f.Certifications) != 3 {
		t.Error("Normalize modified its receiver")
	}
}

func TestValidateChange(t *testing.T) {
	p := loadExample(t, "vmware-2009")
	cases := []struct {
		c       FactChange
		wantErr string
	}{
		{FactChange{Op: OpCertEarned, Name: "VTSP"}, ""},
		{FactChange{Op: OpCertEarned, Name: "VTPS"}, `certification "VTPS" is not declared by program vmware-2009 (declared: VSP, VTSP)`},
		{FactChange{Op: OpCertLost, Name: "VTSP", Count: -1}, "must not be negative"},
		{FactChange{Op: OpCompetencyEarned, Name: "Business Continuity"}, ""},
		{FactChange{Op: OpCompetencyLost, Name: "Cooking"}, "not declared"},
		{FactChange{Op: OpModuleAdded, Name: "Resell"}, "declares no modules"},
		{FactChange{Op: OpRevenueSet, Revenue: -5}, "must not be negative"},
		{FactChange{Op: OpPointsSet, Points: -1}, "must not be negative"},
		{FactChange{Op: OpPointsSet, Points: 10}, ""},
		{FactChange{Op: "cert-gained", Name: "VTSP"}, "unknown fact operation"},
		{FactChange{Op: OpCertEarned}, "name is required"},
	}
	for _, c := range cases {
		err := p.ValidateChange(c.c)
		switch {
		case c.wantErr == "" && err != nil:
			t.Errorf("ValidateChange(%+v) = %v", c.c, err)
		case c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)):
			t.Errorf("ValidateChange(%+v) = %v, want %q", c.c, err, c.wantErr)
		}
	}
}

func TestParseFactOp(t *testing.T) {
	for _, op := range FactOps {
		got, err := ParseFactOp(" " + strings.ToUpper(string(op)) + " ")
		if err != nil || got != op {
			t.Errorf("ParseFactOp(%q) = %q, %v", op, got, err)
		}
	}
	if _, err := ParseFactOp("cert-won"); err == nil || !strings.Contains(err.Error(), "cert-earned") {
		t.Errorf("ParseFactOp(cert-won) = %v, want error listing operations", err)
	}
}
