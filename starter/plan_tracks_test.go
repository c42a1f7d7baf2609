package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

const (
	redhatProgram  = "../examples/redhat-pex/program.yaml"
	redhatPartners = "../examples/redhat-pex/partners.csv"
)

// The expected outcomes below follow from examples/redhat-pex/program.yaml:
// RH-002 (Resell Premier) has revenue and RHCE:2 but no RHCSA, which every
// Resell level above Ready needs, so it falls to Ready; RH-008 holds Resell
// Ready and Sell With Ready with RHCSA:3 and 200 points, which meets Advanced
// (150 points) in both and Premier (400) in neither.
func TestPlanJSONTracks(t *testing.T) {
	code, out, errOut := planRun(t, "--program", redhatProgram, "--partners", redhatPartners, "--at", "2026-01-15", "--format", "json")
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d, stderr:\n%s", code, errOut)
	}
	type track struct {
		Track        string `json:"track"`
		OldTier      string `json:"old_tier"`
		ExpectedTier string `json:"expected_tier"`
		NewTier      string `json:"new_tier"`
		Outcome      string `json:"outcome"`
		Missing      []struct {
			Kind string `json:"kind"`
			Name string `json:"name"`
		} `json:"missing"`
	}
	var got struct {
		Partners []struct {
			PartnerID string  `json:"partner_id"`
			Tier      string  `json:"tier"`
			Tracks    []track `json:"tracks"`
		} `json:"partners"`
		Totals struct {
			Tracks []struct {
				Track    string         `json:"track"`
				Partners int            `json:"partners"`
				Outcome  map[string]int `json:"outcome"`
				NewTier  map[string]int `json:"new_tier"`
			} `json:"tracks"`
			InNoTrack int `json:"in_no_track"`
			Partners  int `json:"partners"`
		} `json:"totals"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("decode: %v\n%s", err, out)
	}
	if len(got.Partners) != 12 || got.Totals.Partners != 12 || got.Totals.InNoTrack != 0 {
		t.Fatalf("partners=%d totals=%+v", len(got.Partners), got.Totals)
	}
	byID := map[string][]track{}
	for _, p := range got.Partners {
		byID[p.PartnerID] = p.Tracks
	}
	rh2 := byID["RH-002"]
	if len(rh2) != 1 || rh2[0].Track != "Resell" || rh2[0].OldTier != "Premier" || rh2[0].NewTier != "Ready" || rh2[0].Outcome != "demoted" ||
		len(rh2[0].Missing) != 1 || rh2[0].Missing[0].Name != "RHCSA" {
		t.Errorf("RH-002 = %+v", rh2)
	}
	rh8 := byID["RH-008"]
	if len(rh8) != 2 || rh8[0].Track != "Resell" || rh8[1].Track != "Sell With" ||
		rh8[0].NewTier != "Advanced" || rh8[1].NewTier != "Advanced" || rh8[0].Outcome != "promoted" || rh8[1].Outcome != "promoted" {
		t.Errorf("RH-008 = %+v", rh8)
	}
	// Per track: 3 partners hold Distribution (RH-003, RH-010, RH-012),
	// 7 Resell, 6 Sell With; the sums are the partner file's tracks column.
	want := map[string]struct {
		partners                int
		promoted, kept, demoted int
	}{
		"Distribution": {3, 0, 2, 1},
		"Resell":       {7, 1, 3, 3},
		"Sell With":    {6, 2, 2, 2},
	}
	if len(got.Totals.Tracks) != 3 || got.Totals.Tracks[0].Track != "Distribution" || got.Totals.Tracks[2].Track != "Sell With" {
		t.Fatalf("track totals not in program order: %+v", got.Totals.Tracks)
	}
	for _, tt := range got.Totals.Tracks {
		w := want[tt.Track]
		if tt.Partners != w.partners || tt.Outcome["promoted"] != w.promoted || tt.Outcome["kept"] != w.kept || tt.Outcome["demoted"] != w.demoted {
			t.Errorf("track %s totals = %+v, want %+v", tt.Track, tt, w)
		}
		sum := 0
		for _, n := range tt.NewTier {
			sum += n
		}
		if sum != tt.Partners || len(tt.NewTier) != 4 {
			t.Errorf("track %s new tiers %v do not add up to %d partners", tt.Track, tt.NewTier, tt.Partners)
		}
	}
}

func TestPlanTableAndCSVTracks(t *testing.T) {
	code, out, errOut := planRun(t, "--program", redhatProgram, "--partners", redhatPartners, "--at", "2026-01-15")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	planWantAll(t, out,
		"PARTNER_ID  TRACK         OLD_TIER",
		// Deadlines: 6 months after --at, the end of that day in UTC (the
		// program names no zone), read in Dublin (IE, UTC+1 in summer) and
		// in UTC for RH-005 (the US has several zones).
		"RH-009      Resell        Premier        Premier        Ready          demoted   2026-07-16 00:59 Europe/Dublin",
		"RHCSA certification 0/1; RHCE certification 1/2",
		"RH-005      Resell        Ready          Ready          Registered     demoted   2026-07-15 23:59 UTC",
		"1 of [revenue 25000 USD, 50 points] (have 0)",
		"Resell outcome         demoted       3",
		"Sell With new tier     Premier       2")

	code, out, errOut = planRun(t, "--program", redhatProgram, "--partners", redhatPartners, "--at", "2026-01-15", "--format", "csv")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	recs := planCSVRecords(t, out)
	// 16 track lines: the partner file's tracks column names 16 levels.
	if len(recs) != 17 || strings.Join(recs[0], ",") != "partner_id,track,old_tier,expected_tier,new_tier,outcome,missing,deadline,time_zone" {
		t.Fatalf("records: %v", recs)
	}
	var rh12 []string
	for _, rec := range recs[1:] {
		if rec[0] == "RH-012" {
			rh12 = append(rh12, rec[1]+"="+rec[4])
		}
	}
	if strings.Join(rh12, ",") != "Distribution=Ready,Resell=Premier,Sell With=Premier" {
		t.Errorf("RH-012 lines = %v", rh12)
	}
	planWantAll(t, out, "# total track Resell partners: 7", "# total track Distribution outcome demoted: 1", "# total track Sell With new tier Advanced: 2", "# total in no track: 0")
}

// A partner file naming a track the program lacks, or a tier the track
// lacks, is refused with its line and column, and nothing is forecast.
func TestPlanRefusesBadTrackLevels(t *testing.T) {
	dir := t.TempDir()
	partners := planWriteFile(t, dir, "p.csv", "partner_id,name,email,tier,tracks\n"+
		"A,Alpha,a@x.example,Ready,Resell:Ready\n"+
		"B,Beta,b@x.example,Ready,Resale:Ready\n"+
		"C,Gamma,c@x.example,Ready,Sell With:Gold\n")
	code, out, errOut := planRun(t, "--program", redhatProgram, "--partners", partners)
	if code != 2 || out != "" {
		t.Fatalf("exit %d, stdout %q", code, out)
	}
	// Line 3's tracks field starts after "B,Beta,b@x.example,Ready," (25
	// bytes), line 4's after "C,Gamma,c@x.example,Ready," (26).
	planWantAll(t, errOut,
		filepath.Join(dir, "p.csv")+`:3:26: tracks: "Resale" is not a track of program redhat-pex`,
		filepath.Join(dir, "p.csv")+`:4:27: tracks: "Gold" is not an old tier of track "Sell With"`)
	// The same column against a program without tracks is refused too.
	code, _, errOut = planRun(t, "--program", vmwareProgram, "--partners", partners)
	if code != 2 || !strings.Contains(errOut, "has no tracks") {
		t.Errorf("exit %d:\n%s", code, errOut)
	}
}

// planWantAll fails the test for every wanted text out lacks.
func planWantAll(t *testing.T, out string, wants ...string) {
	t.Helper()
	for _, want := range wants {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
}

// preview of a partner of a program with tracks shows one forecast line and
// one email line per track; RH-008 holds Resell Ready and Sell With Ready
// and meets Advanced in both (see TestPlanJSONTracks).
func TestPreviewTracks(t *testing.T) {
	out, err := execute(t, "preview", "--program", redhatProgram, "--partners", redhatPartners, "--partner", "RH-008",
		"--kind", "outcome", "--launch", "2025-07-01", "--locale", "en")
	if err != nil {
		t.Fatal(err)
	}
	planWantAll(t, out,
		// 6 months after the launch in both tracks, at the end of that day
		// in UTC (the program names no zone), read in Zurich (CH has one
		// zone; CET is UTC+1): 00:59 the next day.
		"Deadline: January 2, 2026 at 00:59 Zurich time",
		"Forecast: Resell: promoted, Ready -> Advanced (expected Ready)",
		"Forecast: Sell With: promoted, Ready -> Advanced (expected Ready)",
		"Resell: you are Advanced, above the Ready level we expected.",
		"Sell With: you are Advanced, above the Ready level we expected.")

	// --outcome forces every track, each on its own ladder: demoted means
	// the track's fallback.
	out, err = execute(t, "preview", "--program", redhatProgram, "--partners", redhatPartners, "--partner", "RH-008",
		"--kind", "outcome", "--outcome", "demoted", "--launch", "2025-07-01", "--locale", "fr")
	if err != nil {
		t.Fatal(err)
	}
	planWantAll(t, out,
		"Forecast: Resell: demoted, Ready -> Registered (expected Ready)",
		"Resell : vous êtes Registered ; nous espérions le niveau Ready",
		"Sell With : vous êtes Registered ; nous espérions le niveau Ready")

	// A partner whose tracks the program does not know is refused.
	dir := t.TempDir()
	partners := planWriteFile(t, dir, "p.csv", "partner_id,name,email,tier,tracks\nX,Xylo,x@x.example,Ready,Resale:Ready\n")
	var stdout, stderr strings.Builder
	if code := runWith([]string{"preview", "--program", redhatProgram, "--partners", partners, "--partner", "X", "--kind", "outcome"}, &stdout, &stderr); code != exitInput ||
		!strings.Contains(stderr.String(), `"Resale" is not a track`) || stdout.Len() != 0 {
		t.Errorf("unknown track: exit %d, stdout %q, stderr:\n%s", code, stdout.String(), stderr.String())
	}
}
