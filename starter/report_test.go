package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tiershift/tiershift/store"
)

// seedOutcomes fills a finished campaign directly in the schema.
func (f *opsFixture) seedOutcomes() {
	f.t.Helper()
	f.seed([2]string{"p1", "Enterprise"}, [2]string{"p2", "Enterprise"}, [2]string{"p3", "Premier"},
		[2]string{"p4", "Premier"}, [2]string{"p5", "Premier"}, [2]string{"p6", "Enterprise"})
	f.recordLaunch()
	set := func(pid, outcome, newTier string) {
		f.db.Exec(f.t, `UPDATE enrollments SET stage = 'done', outcome = $3, new_tier = NULLIF($4, ''), expected_tier = 'Gold'
			WHERE campaign_id = $1 AND partner_id = $2`, f.campaign, pid, outcome, newTier)
		if newTier != "" {
			f.db.Exec(f.t, `INSERT INTO tier_changes (workflow_id, step, campaign_id, partner_id, from_tier, to_tier, outcome, reason, actor)
				VALUES ($1, 'outcome', $2, $3, 'x', $4, $5, 'deadline', 'workflow')`,
				"transition/"+f.campaign+"/"+pid, f.campaign, pid, newTier, outcome)
		}
	}
	set("p1", "promoted", "Gold")
	set("p2", "demoted", "Registered")
	set("p3", "kept", "Silver")
	set("p4", "kept", "Silver")
	set("p5", "withdrawn", "")
	set("p6", "exempted", "Gold")
	email := func(pid, step, kind, status, errText string) {
		f.db.Exec(f.t, `INSERT INTO emails (workflow_id, step, campaign_id, partner_id, kind, locale, to_email, subject, body_text, body_html, status, error)
			VALUES ($1, $2, $3, $4, $5, 'en', 'x@example.com', 's', 't', 'h', $6, NULLIF($7, ''))`,
			"transition/"+f.campaign+"/"+pid, step, f.campaign, pid, kind, status, errText)
	}
	for _, p := range []string{"p1", "p2", "p3", "p4", "p5", "p6"} {
		email(p, "announcement", "announcement", "sent", "")
	}
	email("p1", "outcome", "outcome", "captured", "")
	email("p2", "reminder-1", "reminder", "failed", "mailbox full")
	email("p2", "outcome", "outcome", "failed", "address rejected")
}

func TestReportFormats(t *testing.T) {
	f := opsDB(t)
	f.seedOutcomes()

	out := opsMust(t, "report", "--campaign", f.campaign)
	for _, want := range []string{"6 partners", "OLD TIER", "Premier", "Silver", "promoted", "demoted", "exempted", "withdrawn",
		"announcement", "Partners with failed emails: 1", "p2", "address rejected"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}

	out = opsMust(t, "report", "--campaign", f.campaign, "--format", "csv")
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatalf("csv: %v\n%s", err, out)
	}
	find := func(cols ...string) string {
		for _, r := range rows {
			match := true
			for i := 0; i+1 < len(cols); i += 2 {
				idx := map[string]int{"section": 0, "old_tier": 1, "new_tier": 2, "outcome": 3, "email_kind": 4, "email_status": 5, "partner_id": 6}[cols[i]]
				if r[idx] != cols[i+1] {
					match = false
				}
			}
			if match {
				return r[7]
			}
		}
		return ""
	}
	checks := []struct {
		cols []string
		want string
	}{
		{[]string{"section", "tiers", "old_tier", "Premier", "new_tier", "Silver", "outcome", "kept"}, "2"},
		{[]string{"section", "outcomes", "outcome", "promoted"}, "1"},
		{[]string{"section", "outcomes", "outcome", "pending"}, "0"},
		{[]string{"section", "emails", "email_kind", "total", "email_status", "sent"}, "6"},
		{[]string{"section", "emails", "email_kind", "outcome", "email_status", "failed"}, "1"},
		{[]string{"section", "failed_emails", "partner_id", "p2"}, "2"},
	}
	for _, c := range checks {
		if got := find(c.cols...); got != c.want {
			t.Errorf("csv %v: %q, want %q\n%s", c.cols, got, c.want, out)
		}
	}

	var r report
	if err := json.Unmarshal([]byte(opsMust(t, "report", "--campaign", f.campaign, "--format", "json")), &r); err != nil {
		t.Fatal(err)
	}
	if r.Partners != 6 || r.Outcomes["kept"] != 2 || r.Outcomes["withdrawn"] != 1 || r.EmailTotals.Failed != 2 ||
		r.EmailTotals.Captured != 1 || r.FailedEmailsTotal != 1 || r.FailedEmailsFor[0].LastError != "address rejected" {
		t.Errorf("json report: %+v", r)
	}

	if _, _, code := opsRun(t, "report", "--campaign", f.campaign, "--format", "xml"); code != exitInput {
		t.Errorf("bad format: exit %d", code)
	}
	if _, _, code := opsRun(t, "report", "--campaign", "nope"); code != exitInput {
		t.Errorf("unknown campaign: exit %d", code)
	}
}

func TestStatusWatchEndsWhenEveryPartnerIsDone(t *testing.T) {
	f := opsDB(t)
	f.seedOutcomes()
	done := make(chan string, 1)
	go func() {
		out, _, _ := opsRun(t, "status", "--campaign", f.campaign, "--watch")
		done <- out
	}()
	select {
	case out := <-done:
		if !strings.Contains(out, "finished: 6 partners") || !strings.Contains(out, "promoted") {
			t.Errorf("watch output:\n%s", out)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("status --watch did not end for a finished campaign")
	}

	// Not done yet: it keeps watching (a second redraw comes, the command
	// has not ended) and stops once the last one finishes.
	f.db.Exec(t, `UPDATE enrollments SET stage = 'reminding' WHERE campaign_id = $1 AND partner_id = 'p1'`, f.campaign)
	w := &drawCounter{drew: make(chan struct{}, 16)}
	ended := make(chan int, 1)
	go func() {
		ended <- runWith([]string{"status", "--campaign", f.campaign, "--watch", "--format", "json"}, w, io.Discard)
	}()
	for draw := 1; draw <= 2; draw++ {
		select {
		case <-w.drew:
		case <-ended:
			t.Fatalf("watch ended after %d draws, before the campaign:\n%s", draw-1, w.String())
		case <-time.After(20 * time.Second):
			t.Fatalf("no draw %d of an unfinished campaign in 20 s", draw)
		}
	}
	f.db.Exec(t, `UPDATE enrollments SET stage = 'done' WHERE campaign_id = $1`, f.campaign)
	select {
	case <-ended:
		if n := strings.Count(w.String(), `"campaign_id"`); n < 3 {
			t.Errorf("watch drew %d times:\n%s", n, w.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("status --watch did not end when the campaign finished")
	}
}

// drawCounter is the output of status --watch: it keeps what was written
// and says on drew each time a write completes, so the test waits for
// redraws instead of sleeping.
type drawCounter struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	drew chan struct{}
}

func (w *drawCounter) Write(p []byte) (int, error) {
	w.mu.Lock()
	n, err := w.buf.Write(p)
	w.mu.Unlock()
	select {
	case w.drew <- struct{}{}:
	default:
	}
	return n, err
}

func (w *drawCounter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// TestStatusAndReportShowACompletedCampaign ends each transition the way its
// workflow does (the store's RecordStage, as the RecordStage activity calls
// it) and reads the campaign's state through the commands.
func TestStatusAndReportShowACompletedCampaign(t *testing.T) {
	f := opsDB(t)
	f.seed([2]string{"p1", "Enterprise"}, [2]string{"p2", "Premier"})
	f.recordLaunch()
	st := store.New(f.db.Pool)
	ctx := context.Background()
	if err := st.MarkCampaignRunning(ctx, f.campaign); err != nil {
		t.Fatal(err)
	}
	end := func(pid string) {
		t.Helper()
		if _, err := st.RecordStage(ctx, store.StageUpdate{CampaignID: f.campaign, PartnerID: pid, Stage: store.StageDone,
			Outcome: "kept", Seq: 1}); err != nil {
			t.Fatal(err)
		}
	}
	state := func() (inStatus, inReport string) {
		t.Helper()
		var v statusView
		if err := json.Unmarshal([]byte(opsMust(t, "status", "--campaign", f.campaign, "--format", "json")), &v); err != nil {
			t.Fatal(err)
		}
		var r report
		if err := json.Unmarshal([]byte(opsMust(t, "report", "--campaign", f.campaign, "--format", "json")), &r); err != nil {
			t.Fatal(err)
		}
		return v.State, r.State
	}

	end("p1")
	if s, r := state(); s != store.CampaignRunning || r != store.CampaignRunning {
		t.Fatalf("one transition left: status says %q, report %q", s, r)
	}
	end("p2")
	if s, r := state(); s != store.CampaignCompleted || r != store.CampaignCompleted {
		t.Fatalf("every transition ended: status says %q, report %q", s, r)
	}
	want := fmt.Sprintf("Campaign %s (%s)", f.campaign, store.CampaignCompleted)
	if out := opsMust(t, "status", "--campaign", f.campaign); !strings.Contains(out, want) {
		t.Errorf("status table lacks %q:\n%s", want, out)
	}
	want = fmt.Sprintf("Campaign %s (program ops-test, %s)", f.campaign, store.CampaignCompleted)
	if out := opsMust(t, "report", "--campaign", f.campaign); !strings.Contains(out, want) {
		t.Errorf("report table lacks %q:\n%s", want, out)
	}
}
