package main

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tiershift/tiershift/workflows"
)

// trackDecision is one track's decision of one partner, as plan forecasts
// it and as the run writes it to tier_changes.
type trackDecision struct {
	PartnerID, Track, OldTier, NewTier, Outcome string
}

// planTrackDecisions runs `starter plan --format json` on the Red Hat
// example and lists its per-track forecast.
func planTrackDecisions(t *testing.T) []trackDecision {
	t.Helper()
	code, out, errOut := planRun(t, "--program", redhatProgram, "--partners", redhatPartners, "--format", "json")
	if code != 0 {
		t.Fatalf("plan: exit %d\n%s", code, errOut)
	}
	var plan struct {
		Partners []struct {
			PartnerID string `json:"partner_id"`
			Tracks    []struct {
				Track   string `json:"track"`
				OldTier string `json:"old_tier"`
				NewTier string `json:"new_tier"`
				Outcome string `json:"outcome"`
			} `json:"tracks"`
		} `json:"partners"`
	}
	if err := json.Unmarshal([]byte(out), &plan); err != nil {
		t.Fatal(err)
	}
	var want []trackDecision
	for _, p := range plan.Partners {
		for _, tr := range p.Tracks {
			want = append(want, trackDecision{p.PartnerID, tr.Track, tr.OldTier, tr.NewTier, tr.Outcome})
		}
	}
	return want
}

// The Red Hat example imported and launched against the dev server, its
// deadlines already past: every partner's transition decides every track
// it holds, and what it writes (tier_changes, one row per track) and shows
// (TrackOutcomes) is exactly what `starter plan` forecast.
func TestRedHatTracksRunAsPlanned(t *testing.T) {
	want := planTrackDecisions(t)
	if len(want) < 12 {
		t.Fatalf("plan forecast %d track decisions for the 12 partners of the example", len(want))
	}
	f := opsTemporal(t, true)
	opsMust(t, "import", "--campaign", f.campaign, "--program", redhatProgram, redhatPartners)
	// Six months of grace in every track: a launch a year ago is decided
	// as soon as it starts.
	launchAt := time.Now().AddDate(-1, 0, 0).UTC().Format(time.DateOnly)
	out := opsMust(t, "launch", "--campaign", f.campaign, "--program", redhatProgram, "--launch-at", launchAt)
	partners := map[string]bool{}
	for _, d := range want {
		partners[d.PartnerID] = true
	}
	if wantLine := fmt.Sprintf("%d partners: %d started", len(partners), len(partners)); !strings.Contains(out, wantLine) {
		t.Fatalf("launch:\n%s\nwant %q", out, wantLine)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for id := range partners {
		var r workflows.Result
		if err := f.tc.GetWorkflow(ctx, workflows.WorkflowID(f.campaign, id), "").Get(ctx, &r); err != nil {
			t.Fatalf("transition of %s: %v", id, err)
		}
	}

	rows, err := f.db.Pool.Query(ctx, `SELECT partner_id, track, from_tier, to_tier, outcome FROM tier_changes
		WHERE campaign_id = $1 AND step = 'outcome' ORDER BY partner_id, track`, f.campaign)
	if err != nil {
		t.Fatal(err)
	}
	var got []trackDecision
	for rows.Next() {
		var d trackDecision
		if err := rows.Scan(&d.PartnerID, &d.Track, &d.OldTier, &d.NewTier, &d.Outcome); err != nil {
			t.Fatal(err)
		}
		got = append(got, d)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	sortDecisions(got)
	sortDecisions(want)
	if !slices.Equal(got, want) {
		t.Fatalf("the run decided\n%v\nplan forecast\n%v", got, want)
	}
	demotedResell := 0
	for _, d := range want {
		if d.Track == "Resell" && d.Outcome == "demoted" {
			demotedResell++
		}
	}
	f.waitVisible("TrackOutcomes = 'Resell:demoted'", int64(demotedResell))
	checkTrackReports(t, f, want)
}

// checkTrackReports checks that `starter status` and `starter report`
// count each track's outcomes as plan forecast them, and that a partner's
// status names each of its tracks' decisions.
func checkTrackReports(t *testing.T, f *opsFixture, want []trackDecision) {
	t.Helper()
	forecast := map[string]map[string]int64{}
	for _, d := range want {
		if forecast[d.Track] == nil {
			forecast[d.Track] = map[string]int64{}
		}
		forecast[d.Track][d.Outcome]++
	}
	var status struct {
		ByTrack map[string]map[string]int64 `json:"by_track"`
	}
	if err := json.Unmarshal([]byte(opsMust(t, "status", "--campaign", f.campaign, "--format", "json")), &status); err != nil {
		t.Fatal(err)
	}
	if !maps.EqualFunc(status.ByTrack, forecast, maps.Equal) {
		t.Errorf("status by track %v, plan forecast %v", status.ByTrack, forecast)
	}
	var report struct {
		Tracks []struct {
			Track    string `json:"track"`
			Outcome  string `json:"outcome"`
			Partners int64  `json:"partners"`
		} `json:"tracks"`
	}
	if err := json.Unmarshal([]byte(opsMust(t, "report", "--campaign", f.campaign, "--format", "json")), &report); err != nil {
		t.Fatal(err)
	}
	reported := map[string]map[string]int64{}
	for _, c := range report.Tracks {
		if reported[c.Track] == nil {
			reported[c.Track] = map[string]int64{}
		}
		reported[c.Track][c.Outcome] += c.Partners
	}
	if !maps.EqualFunc(reported, forecast, maps.Equal) {
		t.Errorf("report by track %v, plan forecast %v", reported, forecast)
	}
	if table := opsMust(t, "report", "--campaign", f.campaign); !strings.Contains(table, "By track:") {
		t.Errorf("report table has no By track section:\n%s", table)
	}
	d := want[0]
	line := fmt.Sprintf("Track %s:  %s (%s -> %s)", d.Track, d.Outcome, d.OldTier, d.NewTier)
	if out := opsMust(t, "status", "--campaign", f.campaign, "--partner", d.PartnerID); !strings.Contains(strings.Join(strings.Fields(out), " "), strings.Join(strings.Fields(line), " ")) {
		t.Errorf("status of %s does not say %q:\n%s", d.PartnerID, line, out)
	}
}

func sortDecisions(ds []trackDecision) {
	slices.SortFunc(ds, func(a, b trackDecision) int {
		return cmp.Or(strings.Compare(a.PartnerID, b.PartnerID), strings.Compare(a.Track, b.Track))
	})
}

// A partner of a program with tracks that holds a level in none has
// nothing to decide: launch starts the others, says how many it left, and
// leaves that one enrolled.
func TestLaunchLeavesPartnersInNoTrack(t *testing.T) {
	f := opsTemporal(t, true)
	partners := filepath.Join(t.TempDir(), "partners.csv")
	csv := "partner_id,name,email,tier,tracks\n" +
		"T-1,One,one@partners.example,Ready,Resell:Advanced|Sell With:Ready\n" +
		"T-2,Two,two@partners.example,Ready,\n"
	if err := os.WriteFile(partners, []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	opsMust(t, "import", "--campaign", f.campaign, "--program", redhatProgram, partners)
	launchAt := time.Now().AddDate(1, 0, 0).UTC().Format(time.DateOnly) // workflows wait for it
	out := opsMust(t, "launch", "--campaign", f.campaign, "--program", redhatProgram, "--launch-at", launchAt)
	for _, want := range []string{"2 partners: 1 started, 0 already running, 0 failed", "1 partners hold a level in no track of program redhat-pex"} {
		if !strings.Contains(out, want) {
			t.Errorf("launch output lacks %q:\n%s", want, out)
		}
	}
	if n := f.count(`SELECT count(*) FROM enrollments WHERE campaign_id = $1 AND partner_id = 'T-2' AND stage = 'enrolled'`, f.campaign); n != 1 {
		t.Errorf("T-2's enrollment changed")
	}
	if _, err := f.tc.DescribeWorkflowExecution(context.Background(), workflows.WorkflowID(f.campaign, "T-2"), ""); err == nil {
		t.Errorf("T-2 has a workflow")
	}
	st := f.waitStatus("T-1")
	if st.ExpectedTier != "Resell:Advanced|Sell With:Ready" {
		t.Errorf("T-1 expects %q, want its level in each track it holds", st.ExpectedTier)
	}
	// The launcher's summary says the same, with the six months of grace
	// every Red Hat track gives.
	d, err := f.tc.DescribeWorkflowExecution(context.Background(), workflows.WorkflowID(f.campaign, "T-1"), "")
	if err != nil {
		t.Fatal(err)
	}
	var summary string
	launchDay, _ := time.Parse(time.DateOnly, launchAt)
	want := "T-1 · Ready → Resell:Advanced|Sell With:Ready by " + launchDay.AddDate(0, 6, 0).Format(time.DateOnly)
	if s := d.GetExecutionConfig().GetUserMetadata().GetSummary(); s == nil || f.dataConverter().FromPayload(s, &summary) != nil || summary != want {
		t.Errorf("summary %q, want %q", summary, want)
	}
}
