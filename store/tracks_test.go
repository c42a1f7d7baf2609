package store_test

import (
	"context"
	"slices"
	"testing"

	"github.com/tiershift/tiershift/partnerfile"
	"github.com/tiershift/tiershift/program"
	"github.com/tiershift/tiershift/store"
)

func trackRow(line int, id string, levels ...program.TrackLevel) partnerfile.Row {
	r := row(line, id, "Ready", program.Facts{Points: 10})
	r.Tracks = levels
	return r
}

var (
	resellAdvanced = program.TrackLevel{Track: "Resell", Tier: "Advanced"}
	sellWithReady  = program.TrackLevel{Track: "Sell With", Tier: "Ready"}
)

// Import stores each partner's level in each track, re-importing the same
// file changes nothing, and launch reads the levels back with the targets.
func TestImportStoresTrackLevels(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	file := func() store.Rows {
		return rows(trackRow(2, "p1", resellAdvanced, sellWithReady), trackRow(3, "p2"))
	}
	if _, err := s.ImportPartners(ctx, "c1", file(), "import:a"); err != nil {
		t.Fatal(err)
	}
	p1, err := s.LoadPartner(ctx, "p1")
	if err != nil || !slices.Equal(p1.Tracks, []program.TrackLevel{resellAdvanced, sellWithReady}) {
		t.Fatalf("p1 tracks %+v, %v", p1.Tracks, err)
	}
	if p2, err := s.LoadPartner(ctx, "p2"); err != nil || p2.Tracks != nil {
		t.Fatalf("p2 holds no track: %+v, %v", p2.Tracks, err)
	}
	res, err := s.ImportPartners(ctx, "c1", file(), "import:a")
	if err != nil || res.Updated != 0 || res.Unchanged != 2 {
		t.Fatalf("re-import of the same file: %+v, %v", res, err)
	}
	// A corrected level, before any transition, is taken.
	if res, err = s.ImportPartners(ctx, "c1", rows(trackRow(2, "p1", resellAdvanced), trackRow(3, "p2")), "import:b"); err != nil || res.Updated != 1 {
		t.Fatalf("import of a changed level: %+v, %v", res, err)
	}
	targets, err := s.LaunchTargetsWithTracks(ctx, "c1", "", 10)
	if err != nil || len(targets) != 2 || !slices.Equal(targets[0].Tracks, []program.TrackLevel{resellAdvanced}) || targets[1].Tracks != nil {
		t.Fatalf("launch targets %+v, %v", targets, err)
	}
}

// One decision writes one tier_changes row per track, each once however
// often the activity runs; a track's change moves the partner's level in
// that track and leaves its headline tier and the other tracks alone.
func TestTierChangesOnePerTrack(t *testing.T) {
	ctx := context.Background()
	s, db := newStore(t)
	if _, err := s.ImportPartners(ctx, "c1", rows(trackRow(2, "p1", resellAdvanced, sellWithReady)), "import:a"); err != nil {
		t.Fatal(err)
	}
	changes := []store.TierChange{
		{Track: "Resell", FromTier: "Advanced", ToTier: "Registered", Outcome: "demoted"},
		{Track: "Sell With", FromTier: "Ready", ToTier: "Advanced", Outcome: "promoted"},
		{Track: "Distribution", FromTier: "Ready", ToTier: "Ready", Outcome: "kept"},
	}
	for round, want := range []bool{true, false} {
		for _, c := range changes {
			c.WorkflowID, c.Step, c.CampaignID, c.PartnerID, c.Reason, c.Actor = "transition/c1/p1", "outcome", "c1", "p1", "deadline reached", "workflow"
			if applied, err := s.ApplyTierChange(ctx, c); err != nil || applied != want {
				t.Fatalf("round %d, track %s: applied=%v err=%v", round, c.Track, applied, err)
			}
		}
	}
	if n := count(t, db, `SELECT count(*) FROM tier_changes WHERE workflow_id = 'transition/c1/p1' AND step = 'outcome'`); n != 3 {
		t.Fatalf("%d tier changes, want one per track", n)
	}
	p, err := s.LoadPartner(ctx, "p1")
	want := []program.TrackLevel{{Track: "Distribution", Tier: "Ready"}, {Track: "Resell", Tier: "Registered"}, {Track: "Sell With", Tier: "Advanced"}}
	if err != nil || p.Tier != "Ready" || !slices.Equal(p.Tracks, want) {
		t.Fatalf("partner after the decision: tier %q tracks %+v (%v), want tier Ready and %+v", p.Tier, p.Tracks, err, want)
	}
	hist, err := s.TierHistory(ctx, "p1")
	if err != nil || len(hist) != 3 || hist[0].Track != "Resell" {
		t.Fatalf("history %+v, %v", hist, err)
	}
	cells, err := s.TrackOutcomes(ctx, "c1")
	wantCells := []store.TrackOutcomeCell{
		{Track: "Distribution", OldTier: "Ready", NewTier: "Ready", Outcome: "kept", Count: 1},
		{Track: "Resell", OldTier: "Advanced", NewTier: "Registered", Outcome: "demoted", Count: 1},
		{Track: "Sell With", OldTier: "Ready", NewTier: "Advanced", Outcome: "promoted", Count: 1},
	}
	if err != nil || !slices.Equal(cells, wantCells) {
		t.Fatalf("track outcomes %+v, %v; want %+v", cells, err, wantCells)
	}
}

// A change without a track (a program without tracks) is stored with an
// empty track and still happens once per (workflow, step): the key every
// row written before tracks keeps.
func TestTierChangeWithoutTrackKeepsItsKey(t *testing.T) {
	ctx := context.Background()
	s, db := newStore(t)
	if _, err := s.ImportPartners(ctx, "c1", rows(baseRows()...), "import:a"); err != nil {
		t.Fatal(err)
	}
	c := store.TierChange{WorkflowID: "transition/c1/p1", Step: "outcome", CampaignID: "c1", PartnerID: "p1",
		FromTier: "Premier", ToTier: "Gold", Outcome: "demoted", Reason: "missed", Actor: "workflow"}
	for i, want := range []bool{true, false} {
		if applied, err := s.ApplyTierChange(ctx, c); err != nil || applied != want {
			t.Fatalf("call %d: applied=%v err=%v", i, applied, err)
		}
	}
	if n := count(t, db, `SELECT count(*) FROM tier_changes WHERE track = ''`); n != 1 {
		t.Fatalf("%d rows with track '', want 1", n)
	}
	if p, _ := s.LoadPartner(ctx, "p1"); p.Tier != "Gold" || p.Tracks != nil {
		t.Fatalf("partner tier %q tracks %+v", p.Tier, p.Tracks)
	}
	if cells, err := s.TrackOutcomes(ctx, "c1"); err != nil || len(cells) != 0 {
		t.Fatalf("track outcomes of a program without tracks: %+v, %v", cells, err)
	}
}
