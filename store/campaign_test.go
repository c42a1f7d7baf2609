package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/tiershift/tiershift/program"
	"github.com/tiershift/tiershift/store"
	"github.com/tiershift/tiershift/workflows"
)

// unfinishedStages is every stage an enrollment can hold before its
// transition ends: the store's own and each the workflow reports.
var unfinishedStages = []string{store.StageEnrolled, string(workflows.StageWaitingLaunch), string(workflows.StageNotified),
	string(workflows.StageReminding), string(workflows.StageQualified), string(workflows.StageDeciding)}

func campaignState(t *testing.T, s *store.Store, id string) string {
	t.Helper()
	c, err := s.GetCampaign(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return c.State
}

func TestCampaignCompletesWhenItsLastTransitionEnds(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	if _, err := s.ImportPartners(ctx, "c1", rows(baseRows()...), "import:x"); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordLaunch(ctx, "c1", "id: v1\n", testProgram("v1"), time.Now()); err != nil {
		t.Fatal(err)
	}
	stage := func(pid, stage string, seq int64) {
		t.Helper()
		if _, err := s.RecordStage(ctx, store.StageUpdate{CampaignID: "c1", PartnerID: pid, Stage: stage, Seq: seq}); err != nil {
			t.Fatal(err)
		}
	}
	// Every partner ends while the launch is still under way: the campaign
	// is not running yet, so it stays launching until the launch says so.
	for _, pid := range []string{"p1", "p2", "p3"} {
		stage(pid, store.StageDone, 1)
	}
	if got := campaignState(t, s, "c1"); got != store.CampaignLaunching {
		t.Fatalf("all done while launching: state %s", got)
	}
	if err := s.MarkCampaignRunning(ctx, "c1"); err != nil {
		t.Fatal(err)
	}
	if completed, err := s.CompleteCampaignIfDone(ctx, "c1"); err != nil || !completed {
		t.Fatalf("complete after launch: %v, %v", completed, err)
	}
	if completed, err := s.CompleteCampaignIfDone(ctx, "c1"); err != nil || completed || campaignState(t, s, "c1") != store.CampaignCompleted {
		t.Fatalf("complete again: %v, %v, state %s", completed, err, campaignState(t, s, "c1"))
	}
	// A launch run again on a completed campaign does not reopen it.
	if err := s.MarkCampaignRunning(ctx, "c1"); err != nil || campaignState(t, s, "c1") != store.CampaignCompleted {
		t.Fatalf("relaunch reopened it: %v, state %s", err, campaignState(t, s, "c1"))
	}

	// A running campaign with one partner in any unfinished stage stays
	// running; that partner's end completes it.
	for i, unfinished := range unfinishedStages {
		id := "c-" + unfinished
		if _, err := s.ImportPartners(ctx, id, rows(baseRows()...), "import:x"); err != nil {
			t.Fatal(err)
		}
		if err := s.RecordLaunch(ctx, id, "id: v1\n", testProgram("v1"), time.Now()); err != nil {
			t.Fatal(err)
		}
		if err := s.MarkCampaignRunning(ctx, id); err != nil {
			t.Fatal(err)
		}
		for _, pid := range []string{"p1", "p2"} {
			if _, err := s.RecordStage(ctx, store.StageUpdate{CampaignID: id, PartnerID: pid, Stage: store.StageDone, Seq: 1}); err != nil {
				t.Fatal(err)
			}
		}
		if unfinished != store.StageEnrolled {
			if _, err := s.RecordStage(ctx, store.StageUpdate{CampaignID: id, PartnerID: "p3", Stage: unfinished, Seq: 1,
				Missing: []program.Missing{}}); err != nil {
				t.Fatal(err)
			}
		}
		if completed, err := s.CompleteCampaignIfDone(ctx, id); err != nil || completed {
			t.Fatalf("p3 %s: completed %v, %v", unfinished, completed, err)
		}
		if got := campaignState(t, s, id); got != store.CampaignRunning {
			t.Fatalf("p3 %s: state %s, want running", unfinished, got)
		}
		if _, err := s.RecordStage(ctx, store.StageUpdate{CampaignID: id, PartnerID: "p3", Stage: store.StageDone, Seq: int64(i + 2)}); err != nil {
			t.Fatal(err)
		}
		if got := campaignState(t, s, id); got != store.CampaignCompleted {
			t.Fatalf("p3 done after %s: state %s, want completed", unfinished, got)
		}
	}
	if got := campaignState(t, s, "c1"); got != store.CampaignCompleted {
		t.Fatalf("c1 state %s", got)
	}
}
