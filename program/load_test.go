package program

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// baseProgram is a small valid program; tests replace numbered lines.
var baseProgram = []string{
	1:  "program: {id: t, name: T, vendor: V, currency: USD}",
	2:  "catalog:",
	3:  "  certifications: [A, B]",
	4:  "  competencies: [C1, C2, C3]",
	5:  "  modules: [M]",
	6:  "old_program: {tiers: [Old1, Old2]}",
	7:  "new_program:",
	8:  "  fallback: Reg",
	9:  "  tiers:",
	10: "    - name: Low",
	11: "      requires: {certification: A}",
	12: "    - name: High",
	13: "      requires:",
	14: "        all_of:",
	15: "          - {certification: A, count: 2}",
	16: "          - {min_revenue: 100}",
	17: "transitions:",
	18: "  - {from: Old1, grace: 6 months, expect: Low}",
	19: "  - {from: Old2, grace: 9 months, expect: High}",
	20: "emails:",
	21: "  from: {email: p@v.example}",
	22: "  locales: [en, fr]",
}

func programWith(repl map[int]string, extra string) string {
	return linesWith(baseProgram, repl) + extra
}

// linesWith joins base's numbered lines (from 1), replacing those in repl.
func linesWith(base []string, repl map[int]string) string {
	lines := make([]string, 0, len(base))
	for i := 1; i < len(base); i++ {
		if r, ok := repl[i]; ok {
			lines = append(lines, r)
		} else {
			lines = append(lines, base[i])
		}
	}
	return strings.Join(lines, "\n") + "\n"
}

func minimalProgram(extra string) string { return programWith(nil, extra) }

func TestLoadBaseIsValid(t *testing.T) {
	p, err := Load("p.yaml", []byte(minimalProgram("")))
	if err != nil {
		t.Fatal(err)
	}
	if p.ApplyAt != ApplyAtDeadline || p.Emails.DefaultLocale != "en" || len(p.Tiers) != 2 || p.Tiers[1].Requires.AllOf[1].MinRevenue == nil || *p.Tiers[1].Requires.AllOf[1].MinRevenue != 10000 {
		t.Errorf("unexpected program: %+v", p)
	}
}

// want is one expected problem: its line, its field and part of its message.
type want struct {
	line  int
	field string
	msg   string
}

func TestLoadProblems(t *testing.T) {
	cases := []struct {
		name  string
		repl  map[int]string
		extra string
		want  []want
	}{
		{"missing required field", map[int]string{1: "program: {id: t, vendor: V, currency: USD}"}, "",
			[]want{{1, "program.name", "is required"}}},
		{"unknown key with suggestion", map[int]string{8: "  falback: Reg"}, "",
			[]want{{7, "new_program.fallback", "is required"}, {8, "new_program.falback", `unknown key "falback" (did you mean "fallback"?)`}}},
		{"unknown tier in transition expect", map[int]string{19: "  - {from: Old2, grace: 9 months, expect: Hihg}"}, "",
			[]want{{19, "transitions[1].expect", `"Hihg" is not a tier of the new program (tiers: Reg, Low, High)`}}},
		{"unknown old tier in from", map[int]string{19: "  - {from: Old3, grace: 9 months, expect: High}"}, "",
			[]want{{17, "transitions", `old tier "Old2" (line 6) has no transition`}, {19, "transitions[1].from", `"Old3" is not an old tier (old tiers: Old1, Old2)`}}},
		{"unknown cap", map[int]string{18: "  - {from: Old1, grace: 6 months, expect: Low, cap: Top}"}, "",
			[]want{{18, "transitions[0].cap", `"Top" is not a tier`}}},
		{"cap below expect", map[int]string{19: "  - {from: Old2, grace: 9 months, expect: High, cap: Low}"}, "",
			[]want{{19, "transitions[1].cap", `"Low" is below the expected tier "High"`}}},
		{"undeclared certification", map[int]string{11: "      requires: {certification: Z}"}, "",
			[]want{{11, "new_program.tiers[0].requires.certification", `"Z" is not declared in catalog.certifications (declared: A, B)`}}},
		{"undeclared competency and module", map[int]string{11: "      requires: {any_of: [{competency: C9}, {module: N}]}"}, "",
			[]want{{11, "new_program.tiers[0].requires.any_of[0].competency", `"C9" is not declared in catalog.competencies (declared: C1, C2, C3)`},
				{11, "new_program.tiers[0].requires.any_of[1].module", `"N" is not declared in catalog.modules (declared: M)`}}},
		{"at_least larger than list", map[int]string{11: "      requires: {at_least: 3, of: [{competency: C1}, {competency: C2}]}"}, "",
			[]want{{11, "new_program.tiers[0].requires.at_least", "is 3 but of lists only 2 requirements"}}},
		{"at_least zero", map[int]string{11: "      requires: {at_least: 0, of: [{competency: C1}]}"}, "",
			[]want{{11, "new_program.tiers[0].requires.at_least", "must be at least 1"}}},
		{"at_least without of", map[int]string{11: "      requires: {at_least: 1}"}, "",
			[]want{{11, "new_program.tiers[0].requires.at_least", "needs of"}}},
		{"empty combinator", map[int]string{11: "      requires: {any_of: []}"}, "",
			[]want{{11, "new_program.tiers[0].requires.any_of", "has no requirements"}}},
		{"mixed kinds", map[int]string{11: "      requires: {certification: A, competency: C1}"}, "",
			[]want{{11, "new_program.tiers[0].requires", "mixes certification and competency"}}},
		{"count below one", map[int]string{11: "      requires: {certification: A, count: 0}"}, "",
			[]want{{11, "new_program.tiers[0].requires.count", "is 0 but must be at least 1"}}},
		{"bad revenue", map[int]string{16: "          - {min_revenue: -5}"}, "",
			[]want{{16, "new_program.tiers[1].requires.all_of[1].min_revenue", "must not be negative"}}},
		{"tiers out of order by certification count", map[int]string{11: "      requires: {certification: A, count: 3}"}, "",
			[]want{{12, "new_program.tiers[1]", `tiers must be listed lowest first: "High" needs 2 A but comes after "Low", which needs 3 A`}}},
		{"tiers out of order by revenue", map[int]string{11: "      requires: {all_of: [{certification: A}, {min_revenue: 500}]}"}, "",
			[]want{{12, "new_program.tiers[1]", `tiers must be listed lowest first: "High" needs min_revenue 100 but comes after "Low", which needs min_revenue 500`}}},
		{"duplicate tier", map[int]string{12: "    - name: Low"}, "",
			[]want{{12, "new_program.tiers[1].name", `tier "Low" is declared twice (first at line 10)`}}},
		{"duplicate old tier and catalog entry", map[int]string{3: "  certifications: [A, A, B]", 6: "old_program: {tiers: [Old1, Old2, Old1]}"}, "",
			[]want{{3, "catalog.certifications[1]", `certification "A" is listed twice (first at line 3)`}, {6, "old_program.tiers[2]", `old tier "Old1" is listed twice`}}},
		{"duplicate transition", map[int]string{19: "  - {from: Old1, grace: 9 months, expect: High}"}, "",
			[]want{{17, "transitions", `old tier "Old2" (line 6) has no transition`}, {19, "transitions[1].from", `a transition from "Old1" is already defined at line 18`}}},
		{"fallback is a tier", map[int]string{8: "  fallback: Low"}, "",
			[]want{{8, "new_program.fallback", `"Low" is also a tier (line 10)`}}},
		{"reminder at or after deadline", nil, "reminders: [7 months, 30 days, 6 months]",
			[]want{{23, "reminders[0]", `reminder 7 months before the deadline would be at or before the launch for partners from "Old1", whose grace is only 6 months`},
				{23, "reminders[0]", `from "Old2"`}, // 7 months <= 9 months is fine, so this must NOT match: checked below
				{23, "reminders[2]", `reminder 6 months`}}},
		{"bad duration", map[int]string{18: "  - {from: Old1, grace: 6 m, expect: Low}"}, "",
			[]want{{18, "transitions[0].grace", "use mo for months or min for minutes"}}},
		{"locales", map[int]string{22: "  locales: [fr, de]"}, "  default_locale: es\n",
			[]want{{22, "emails.locales", `locale "de" is not supported`}, {22, "emails.locales", "must include en"}, {23, "emails.default_locale", `"es" is not one of locales`}}},
		{"from email and links", map[int]string{21: "  from: {email: partners-at-vendor}"}, "  links: {portal: partners.example/x, training: 'ftp://x.example/'}\n  reply_to: nope\n",
			[]want{{21, "emails.from.email", "is not an email address"}, {23, "emails.links.portal", "must be an absolute http:// or https:// URL"},
				{23, "emails.links.training", "must be an absolute"}, {24, "emails.reply_to", "is not an email address"}}},
		{"apply_at", map[int]string{8: "  fallback: Reg\n  apply_at: later"}, "",
			[]want{{9, "new_program.apply_at", `"later" must be deadline or qualification`}}},
		{"email kinds", nil, "  subjects: {fr: {remind: x}}\n  sendgrid_templates: {outcome: d-1}\n",
			[]want{{23, "emails.subjects.fr.remind", `unknown key "remind" (did you mean "reminder"?)`}}},
		{"missing sections", map[int]string{20: "", 21: "", 22: ""}, "",
			[]want{{1, "emails", "is required"}}},
		{"yaml syntax", map[int]string{5: "  modules: [M"}, "",
			[]want{{0, "", "not valid YAML"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src := programWith(c.repl, c.extra)
			_, err := Load("p.yaml", []byte(src))
			var probs Problems
			if !errors.As(err, &probs) {
				t.Fatalf("Load error = %v, want Problems\n%s", err, src)
			}
			for _, w := range c.want {
				if c.name == "reminder at or after deadline" && strings.Contains(w.msg, `from "Old2"`) {
					for _, p := range probs {
						if strings.Contains(p.Message, `7 months`) && strings.Contains(p.Message, `"Old2"`) {
							t.Errorf("7 months is shorter than Old2's 9 months grace, yet: %v", p)
						}
					}
					continue
				}
				found := false
				for _, p := range probs {
					if (w.line == 0 || p.Line == w.line) && p.Field == w.field && strings.Contains(p.Message, w.msg) && p.File == "p.yaml" {
						found = true
					}
				}
				if !found {
					t.Errorf("missing problem %d: %s: %s\ngot:\n%v", w.line, w.field, w.msg, err)
				}
			}
		})
	}
}

func TestLoadReportsEveryProblemAtOnce(t *testing.T) {
	src := programWith(map[int]string{
		1:  "program: {id: T!, name: T, vendor: V, currency: usd}",
		11: "      requires: {certification: Z}",
		19: "  - {from: Old2, grace: 0 days, expect: Hihg}",
		21: "  from: {email: nobody}",
	}, "")
	_, err := Load("p.yaml", []byte(src))
	var probs Problems
	if !errors.As(err, &probs) {
		t.Fatalf("got %v", err)
	}
	if len(probs) != 6 {
		t.Errorf("want 6 problems, got %d:\n%v", len(probs), err)
	}
	for i := 1; i < len(probs); i++ {
		if probs[i].Line < probs[i-1].Line {
			t.Errorf("problems not in file order:\n%v", err)
		}
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != len(probs) || !strings.HasPrefix(lines[0], "p.yaml:1: program.id: ") {
		t.Errorf("Error() format:\n%v", err)
	}
}

func TestLoadEmptyAndGarbage(t *testing.T) {
	for _, src := range []string{"", "   \n", "just a string", "- a\n- b\n", "{"} {
		p, err := Load("x.yaml", []byte(src))
		if err == nil || p != nil {
			t.Errorf("Load(%q) = %v, %v; want problems", src, p, err)
		}
	}
}

func TestLoadOverrides(t *testing.T) {
	src := minimalProgram(`  default_locale: fr
  subjects: {fr: {reminder: "Plus que {{.DaysLeft}} jours"}}
  bodies: {en: {outcome: {text: "Hello", html: "<p>Hello</p>"}}}
  sendgrid_templates: {announcement: d-123}
  categories: [t-2024]
`)
	p, err := Load("p.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	e := p.Emails
	if e.DefaultLocale != "fr" || e.Subjects["fr"]["reminder"] != "Plus que {{.DaysLeft}} jours" || e.Bodies["en"]["outcome"].HTML != "<p>Hello</p>" ||
		e.SendGridTemplates["announcement"] != "d-123" || fmt.Sprint(e.Categories) != "[t-2024]" {
		t.Errorf("emails = %+v", e)
	}
}

// FuzzLoad checks that Load never panics and that every program it accepts
// can evaluate any old tier without panicking.
func FuzzLoad(f *testing.F) {
	files, _ := filepath.Glob("../examples/*/program.yaml")
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(minimalProgram("")))
	f.Add([]byte(trackedWith(nil)))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Load("fuzz.yaml", data)
		if err != nil {
			if p != nil {
				t.Fatal("program returned with problems")
			}
			return
		}
		facts := []Facts{{}, {Certifications: map[string]int{}, Revenue: 1 << 40, Points: 1 << 30}}
		all := Facts{Certifications: map[string]int{}, Competencies: p.Competencies, Modules: p.Modules, Revenue: 1 << 50, Points: 1 << 30}
		for _, c := range p.Certifications {
			all.Certifications[c] = 1000
		}
		facts = append(facts, all)
		for _, tp := range p.TrackPrograms() {
			for _, old := range tp.OldTiers {
				for _, f := range facts {
					ev, err := tp.Evaluate(old, f)
					if err != nil {
						t.Fatalf("track %q: Evaluate(%q): %v", tp.Name, old, err)
					}
					if tp.TierRank(ev.NewTier) < 0 {
						t.Fatalf("track %q: new tier %q unknown", tp.Name, ev.NewTier)
					}
				}
			}
		}
	})
}
