package program

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

// trackedProgram is a small valid program with two tracks; tests replace
// numbered lines.
var trackedProgram = []string{
	1:  "program: {id: t, name: T, vendor: V, currency: USD}",
	2:  "catalog: {certifications: [A, B]}",
	3:  "old_program: {tiers: [Old1, Old2]}",
	4:  "tracks:",
	5:  "  - name: Resell",
	6:  "    old_program: {tiers: [Ready, Advanced]}",
	7:  "    new_program:",
	8:  "      fallback: None",
	9:  "      tiers:",
	10: "        - {name: Ready, requires: {certification: A}}",
	11: "        - {name: Advanced, requires: {all_of: [{certification: A, count: 2}, {min_points: 100}]}}",
	12: "    transitions:",
	13: "      - {from: Ready, grace: 6 months, expect: Ready}",
	14: "      - {from: Advanced, grace: 6 months, expect: Advanced}",
	15: "  - name: Sell With",
	16: "    old_program: {tiers: [Ready]}",
	17: "    new_program:",
	18: "      fallback: Referral",
	19: "      tiers:",
	20: "        - {name: Ready, requires: {min_points: 10}}",
	21: "        - {name: Premier, requires: {min_points: 500}}",
	22: "    transitions:",
	23: "      - {from: Ready, grace: 3 months, expect: Ready}",
	24: "emails: {from: p@v.example}",
}

func trackedWith(repl map[int]string) string { return linesWith(trackedProgram, repl) }

func TestLoadTracks(t *testing.T) {
	p, err := Load("p.yaml", []byte(trackedWith(nil)))
	if err != nil {
		t.Fatal(err)
	}
	if !p.HasTracks() || !reflect.DeepEqual(p.TrackNames(), []string{"Resell", "Sell With"}) {
		t.Fatalf("tracks = %+v", p.Tracks)
	}
	rs, sw := p.Tracks[0], p.Tracks[1]
	if rs.Fallback != "None" || len(rs.Tiers) != 2 || rs.Tiers[1].Requires.AllOf[1].MinPoints == nil || len(rs.Transitions) != 2 || rs.ApplyAt != ApplyAtDeadline {
		t.Errorf("Resell = %+v", rs)
	}
	if sw.Fallback != "Referral" || sw.Transitions[0].Grace != (Duration{Months: 3}) {
		t.Errorf("Sell With = %+v", sw)
	}
	if !reflect.DeepEqual(p.OldTiers, []string{"Old1", "Old2"}) || len(p.Tiers) != 0 || len(p.Transitions) != 0 {
		t.Errorf("top level of a tracked program = %+v", p)
	}
}

func TestLoadTrackProblems(t *testing.T) {
	cases := []struct {
		name string
		repl map[int]string
		want []want
	}{
		{"track without tiers", map[int]string{9: "      tiers: []", 10: "", 11: "", 13: "", 14: "      - {from: Advanced, grace: 6 months, expect: None}"},
			[]want{{9, "tracks[0].new_program.tiers", "must not be empty"}, {12, "tracks[0].transitions", `old tier "Ready" (line 6) has no transition`}}},
		{"transition expects another track's tier", map[int]string{23: "      - {from: Ready, grace: 3 months, expect: Advanced}"},
			[]want{{23, "tracks[1].transitions[0].expect", `"Advanced" is a tier of track "Resell", not of track "Sell With"`}}},
		{"cap names another track's fallback", map[int]string{23: "      - {from: Ready, grace: 3 months, expect: Ready, cap: None}"},
			[]want{{23, "tracks[1].transitions[0].cap", `"None" is a tier of track "Resell", not of track "Sell With"`}}},
		{"unknown tier in a track", map[int]string{13: "      - {from: Ready, grace: 6 months, expect: Redy}"},
			[]want{{13, "tracks[0].transitions[0].expect", `"Redy" is not a tier of the new program (tiers: None, Ready, Advanced)`}}},
		{"duplicate track", map[int]string{15: "  - name: Resell"},
			[]want{{15, "tracks[1].name", `track "Resell" is declared twice (first at line 5)`}}},
		{"separator in a track name", map[int]string{15: "  - name: Sell|With"},
			[]want{{15, "tracks[1].name", "must not contain ':' or '|'"}}},
		{"track without new_program", map[int]string{17: "", 18: "", 19: "", 20: "", 21: "", 23: "      - {from: Ready, grace: 3 months, expect: Referral}"},
			[]want{{15, "tracks[1].new_program", "is required: every track has its own new_program"},
				{23, "tracks[1].transitions[0].expect", `"Referral" is not a tier`}}},
		{"top-level ladder beside tracks", map[int]string{3: "old_program: {tiers: [Old1]}\nnew_program: {fallback: X, tiers: [{name: Y}]}"},
			[]want{{4, "new_program", "cannot be given at the top level of a program with tracks"}}},
		{"no headline tiers", map[int]string{3: ""},
			[]want{{1, "old_program", "is required: with tracks"}}},
		{"tier order within a track", map[int]string{10: "        - {name: Ready, requires: {certification: A, count: 3}}"},
			[]want{{11, "tracks[0].new_program.tiers[1]", `"Advanced" needs 2 A but comes after "Ready", which needs 3 A`}}},
		{"undeclared certification in a track", map[int]string{20: "        - {name: Ready, requires: {certification: Z}}"},
			[]want{{20, "tracks[1].new_program.tiers[0].requires.certification", `"Z" is not declared in catalog.certifications`}}},
		{"empty track", map[int]string{15: "  -", 16: "", 17: "", 18: "", 19: "", 20: "", 21: "", 22: "", 23: ""},
			[]want{{15, "tracks[1]", "is empty; a track needs name"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src := trackedWith(c.repl)
			p, err := Load("p.yaml", []byte(src))
			var probs Problems
			if !errors.As(err, &probs) || p != nil {
				t.Fatalf("Load = %v, %v; want Problems\n%s", p, err, src)
			}
			for _, w := range c.want {
				found := false
				for _, p := range probs {
					if p.Line == w.line && p.Field == w.field && strings.Contains(p.Message, w.msg) && p.File == "p.yaml" {
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

// A program without tracks keeps the JSON it had before tracks existed:
// campaigns store it and workflow histories carry it.
func TestProgramWithoutTracksJSONUnchanged(t *testing.T) {
	p, err := Load("p.yaml", []byte(minimalProgram("")))
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), `"tracks"`) {
		t.Errorf("untracked program marshals a tracks key: %s", b)
	}
	tl := p.TrackList()
	if len(tl) != 1 || tl[0].Name != "" || !reflect.DeepEqual(tl[0].Tiers, p.Tiers) || tl[0].Fallback != p.Fallback {
		t.Errorf("TrackList of an untracked program = %+v", tl)
	}
}

func TestEvaluateTracks(t *testing.T) {
	p, err := Load("p.yaml", []byte(trackedWith(nil)))
	if err != nil {
		t.Fatal(err)
	}
	tps := p.TrackPrograms()
	f := Facts{Certifications: map[string]int{"A": 1}, Points: 120}
	// Advanced in Resell needs 2 A: one is missing, so Ready (demoted);
	// Ready in Sell With needs 10 points: kept. Not holding a level in a
	// track means not being evaluated in it.
	got, err := EvaluateTracks(nil, tps, "Old1", []TrackLevel{{"Sell With", "Ready"}, {"Resell", "Advanced"}}, f)
	if err != nil {
		t.Fatal(err)
	}
	want := []TrackEvaluation{
		{Track: "Resell", Evaluation: Evaluation{OldTier: "Advanced", ExpectedTier: "Advanced", NewTier: "Ready", Outcome: OutcomeDemoted,
			Missing: []Missing{{Kind: MissingCertification, Name: "A", Have: 1, Need: 2}}}},
		{Track: "Sell With", Evaluation: Evaluation{OldTier: "Ready", ExpectedTier: "Ready", NewTier: "Ready", Outcome: OutcomeKept, MeetsExpected: true}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("EvaluateTracks =\n%+v\nwant\n%+v", got, want)
	}
	got, err = EvaluateTracks(got, tps, "Old1", []TrackLevel{{"Sell With", "Ready"}}, Facts{Points: 600})
	if err != nil || len(got) != 1 || got[0].Track != "Sell With" || got[0].NewTier != "Premier" || got[0].Outcome != OutcomePromoted {
		t.Errorf("Sell With only = %+v, %v", got, err)
	}
	if _, err := EvaluateTracks(nil, tps, "Old1", []TrackLevel{{"Resell", "Premier"}}, f); err == nil || !strings.Contains(err.Error(), "track Resell") {
		t.Errorf("unknown old tier in a track: err = %v", err)
	}

	// A program without tracks evaluates its one implicit track as Evaluate does.
	plain, err := Load("p.yaml", []byte(minimalProgram("")))
	if err != nil {
		t.Fatal(err)
	}
	one, err := EvaluateTracks(nil, plain.TrackPrograms(), "Old2", nil, f)
	ev, _ := plain.Evaluate("Old2", f)
	if err != nil || len(one) != 1 || one[0].Track != "" || !reflect.DeepEqual(one[0].Evaluation, ev) {
		t.Errorf("untracked EvaluateTracks = %+v, %v; want %+v", one, err, ev)
	}
}

func TestCheckLevels(t *testing.T) {
	p, err := Load("p.yaml", []byte(trackedWith(nil)))
	if err != nil {
		t.Fatal(err)
	}
	if got := p.CheckLevels([]TrackLevel{{"Resell", "Advanced"}, {"Sell With", "Ready"}}); got != nil {
		t.Errorf("valid levels: %v", got)
	}
	got := p.CheckLevels([]TrackLevel{{"Distribution", "Ready"}, {"Sell With", "Advanced"}})
	if len(got) != 2 || !strings.Contains(got[0], `"Distribution" is not a track of program t (tracks: Resell, Sell With)`) ||
		!strings.Contains(got[1], `"Advanced" is not an old tier of track "Sell With" (old tiers: Ready)`) {
		t.Errorf("CheckLevels = %q", got)
	}
	plain, _ := Load("p.yaml", []byte(minimalProgram("")))
	if got := plain.CheckLevels([]TrackLevel{{"Resell", "Ready"}}); len(got) != 1 || !strings.Contains(got[0], "has no tracks") {
		t.Errorf("levels for an untracked program: %v", got)
	}
}

// A partner's deadline is its latest track's (Resell: 6 months, Sell With:
// 9 here), and its expected levels are named per track in program order; tracks
// it holds no level in count for neither.
func TestLatestDeadlineAndExpectedLevels(t *testing.T) {
	p, err := Load("p.yaml", []byte(trackedWith(map[int]string{
		14: "      - {from: Advanced, grace: 6 months, expect: Ready}",
		23: "      - {from: Ready, grace: 9 months, expect: Ready}",
	})))
	if err != nil {
		t.Fatal(err)
	}
	tps := p.TrackPrograms()
	launch := time.Date(2026, 1, 15, 0, 0, 0, 0, time.UTC)
	at := func(p *Program, old string) (time.Time, error) { return p.Deadline(old, launch) }
	both := []TrackLevel{{Track: "Resell", Tier: "Advanced"}, {Track: "Sell With", Tier: "Ready"}}
	if d, err := LatestDeadline(tps, both, at); err != nil || !d.Equal(launch.AddDate(0, 9, 0)) {
		t.Errorf("deadline with both tracks = %v, %v; want Sell With's, nine months on", d, err)
	}
	if d, err := LatestDeadline(tps, both[:1], at); err != nil || !d.Equal(launch.AddDate(0, 6, 0)) {
		t.Errorf("deadline with Resell only = %v, %v; want six months on", d, err)
	}
	sellWith := both[1:]
	if _, err := LatestDeadline(tps, nil, at); err == nil {
		t.Error("a partner in no track has a deadline")
	}
	if got := ExpectedLevels(tps, both); got != "Resell:Ready|Sell With:Ready" {
		t.Errorf("expected levels %q", got)
	}
	if got := ExpectedLevels(tps, sellWith); got != "Sell With:Ready" {
		t.Errorf("expected levels of a Sell With partner %q", got)
	}
}
