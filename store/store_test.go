package store_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/tiershift/tiershift/internal/pgtest"
	"github.com/tiershift/tiershift/partnerfile"
	"github.com/tiershift/tiershift/program"
	"github.com/tiershift/tiershift/store"
)

type sliceRows struct {
	rows []partnerfile.Row
	i    int
}

func (s *sliceRows) Next() (partnerfile.Row, error) {
	if s.i >= len(s.rows) {
		return partnerfile.Row{}, io.EOF
	}
	s.i++
	return s.rows[s.i-1], nil
}

func rows(rs ...partnerfile.Row) store.Rows { return &sliceRows{rows: rs} }

func row(line int, id, tier string, f program.Facts) partnerfile.Row {
	return partnerfile.Row{Line: line, PartnerID: id, Name: "Partner " + id, Email: id + "@example.com",
		Locale: "en", Country: "US", Tier: tier, Facts: f}
}

func newStore(t *testing.T) (*store.Store, *pgtest.DB) {
	t.Helper()
	db := pgtest.New(t)
	return store.New(db.Pool), db
}

func count(t *testing.T, db *pgtest.DB, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := db.Pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

func baseRows() []partnerfile.Row {
	return []partnerfile.Row{
		row(2, "p1", "Premier", program.Facts{Certifications: map[string]int{"VCP": 2}, Competencies: []string{"Cloud", "Desktop"}, Revenue: 100000, Points: 5}),
		row(3, "p2", "Enterprise", program.Facts{Modules: []string{"Sales"}}),
		row(4, "p3", "Registered", program.Facts{}),
	}
}

func TestImportIsIdempotentAndRecordsChanges(t *testing.T) {
	ctx := context.Background()
	s, db := newStore(t)

	res, err := s.ImportPartners(ctx, "c1", rows(baseRows()...), "import:a.csv")
	if err != nil {
		t.Fatal(err)
	}
	if res.Rows != 3 || res.Inserted != 3 || res.Updated != 0 || res.Unchanged != 0 || res.FactsChanged != 0 || res.Enrolled != 3 {
		t.Fatalf("first import: %+v", res)
	}
	c, err := s.GetCampaign(ctx, "c1")
	if err != nil || c.State != store.CampaignDraft || c.Program != nil {
		t.Fatalf("campaign after import: %+v, %v", c, err)
	}
	e, err := s.GetEnrollment(ctx, "c1", "p2")
	if err != nil || e.WorkflowID != "transition/c1/p2" || e.OldTier != "Enterprise" || e.Stage != "enrolled" {
		t.Fatalf("enrollment: %+v, %v", e, err)
	}

	// Same file, rows in another order and lists in another order: no change.
	again := baseRows()
	again[0].Facts.Competencies = []string{"Desktop", "Cloud", "Cloud"}
	again[0], again[2] = again[2], again[0]
	res, err = s.ImportPartners(ctx, "c1", rows(again...), "import:a.csv")
	if err != nil {
		t.Fatal(err)
	}
	if res.Inserted != 0 || res.Updated != 0 || res.Unchanged != 3 || res.FactsChanged != 0 || res.Enrolled != 0 || len(res.FactsChangedIDs) != 0 {
		t.Fatalf("re-import: %+v", res)
	}
	if n := count(t, db, `SELECT count(*) FROM partner_fact_changes`); n != 0 {
		t.Fatalf("re-import wrote %d fact changes", n)
	}

	// Updated file: p1 gets a certification and points, p2 a new email, p4 is new.
	upd := baseRows()
	upd[0].Facts.Certifications["VSP"] = 1
	upd[0].Facts.Points = 9
	upd[1].Email = "new@example.com"
	upd = append(upd, row(5, "p4", "Premier", program.Facts{}))
	// Every partner's facts last changed an hour ago, so an import that
	// changes them must move the time forward, whatever the clock's grain.
	db.Exec(t, `UPDATE partners SET facts_changed_at = facts_changed_at - interval '1 hour'`)
	before, _ := s.LoadPartner(ctx, "p1")
	p2Before, _ := s.LoadPartner(ctx, "p2")
	res, err = s.ImportPartners(ctx, "c1", rows(upd...), "import:b.csv")
	if err != nil {
		t.Fatal(err)
	}
	if res.Inserted != 1 || res.Updated != 2 || res.Unchanged != 1 || res.FactsChanged != 1 || res.Enrolled != 1 {
		t.Fatalf("updated import: %+v", res)
	}
	if len(res.FactsChangedIDs) != 1 || res.FactsChangedIDs[0] != "p1" {
		t.Fatalf("facts changed IDs = %v", res.FactsChangedIDs)
	}
	hist, err := s.FactHistory(ctx, "p1")
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 2 || hist[0].Field != "certifications" || hist[1].Field != "points" || hist[0].Source != "import:b.csv" {
		t.Fatalf("history = %+v", hist)
	}
	if string(hist[1].OldValue) != "5" || string(hist[1].NewValue) != "9" {
		t.Fatalf("points change %s -> %s", hist[1].OldValue, hist[1].NewValue)
	}
	after, _ := s.LoadPartner(ctx, "p1")
	if !after.FactsChangedAt.After(before.FactsChangedAt) || after.Facts.Certifications["VSP"] != 1 || after.Facts.Points != 9 {
		t.Fatalf("p1 after: %+v", after)
	}
	p2, _ := s.LoadPartner(ctx, "p2")
	if p2.Email != "new@example.com" || len(hist) != 2 || !p2.FactsChangedAt.Equal(p2Before.FactsChangedAt) {
		t.Fatalf("p2 after: %+v", p2)
	}
	if n := count(t, db, `SELECT count(*) FROM partner_fact_changes WHERE partner_id = 'p2'`); n != 0 {
		t.Fatalf("contact change wrote %d fact changes", n)
	}
}

func TestImportRefusesDuplicatesAndWritesNothing(t *testing.T) {
	ctx := context.Background()
	s, db := newStore(t)
	rs := baseRows()
	rs = append(rs, row(9, "p2", "Premier", program.Facts{}))
	_, err := s.ImportPartners(ctx, "c1", rows(rs...), "import:x")
	if err == nil {
		t.Fatal("duplicate partner imported")
	}
	t.Log(err)
	if n := count(t, db, `SELECT count(*) FROM partners`) + count(t, db, `SELECT count(*) FROM campaigns`); n != 0 {
		t.Fatalf("failed import left %d rows", n)
	}
}

func TestImportKeepsTransitionedTierAndStartedEnrollments(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	if _, err := s.ImportPartners(ctx, "c1", rows(baseRows()...), "import:a"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ApplyTierChange(ctx, store.TierChange{WorkflowID: "transition/c1/p1", Step: "deadline", CampaignID: "c1",
		PartnerID: "p1", FromTier: "Premier", ToTier: "Gold", Outcome: "demoted", Reason: "r", Actor: "workflow"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RecordStage(ctx, store.StageUpdate{CampaignID: "c1", PartnerID: "p2", Stage: "waiting", OldTier: "Enterprise", Seq: 1}); err != nil {
		t.Fatal(err)
	}
	rs := baseRows()
	rs[0].Tier = "Enterprise" // differs, but a transition owns p1's tier now
	rs[1].Tier = "Premier"    // p2's enrollment has started
	rs[2].Tier = "Enterprise" // p3 not started: tier and enrollment follow the file
	res, err := s.ImportPartners(ctx, "c1", rows(rs...), "import:b")
	if err != nil {
		t.Fatal(err)
	}
	if res.TierKept != 1 || res.EnrollmentsKept != 1 || res.EnrollmentsUpdated != 2 {
		t.Fatalf("result %+v", res)
	}
	if p, _ := s.LoadPartner(ctx, "p1"); p.Tier != "Gold" {
		t.Fatalf("p1 tier = %q, want Gold (set by the transition)", p.Tier)
	}
	if p, _ := s.LoadPartner(ctx, "p3"); p.Tier != "Enterprise" {
		t.Fatalf("p3 tier = %q", p.Tier)
	}
	if e, _ := s.GetEnrollment(ctx, "c1", "p2"); e.OldTier != "Enterprise" || e.Stage != "waiting" {
		t.Fatalf("started enrollment changed: %+v", e)
	}
	if e, _ := s.GetEnrollment(ctx, "c1", "p3"); e.OldTier != "Enterprise" {
		t.Fatalf("p3 enrollment: %+v", e)
	}
}

func testProgram(id string) *program.Program {
	return &program.Program{ID: id, Name: "Test", OldTiers: []string{"Premier"}, Tiers: []program.Tier{{Name: "Gold"}},
		Certifications: []string{"VCP", "VSP"}, Competencies: []string{"Cloud"}}
}

func TestCampaignLaunch(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	launch := time.Date(2009, 4, 14, 9, 0, 0, 123456789, time.UTC)
	if _, err := s.GetCampaign(ctx, "c1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("missing campaign: %v", err)
	}
	if err := s.RecordLaunch(ctx, "c1", "id: v1\n", testProgram("v1"), launch); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordLaunch(ctx, "c1", "id: v1\n# same program\n", testProgram("v1"), launch); err != nil {
		t.Fatalf("relaunch with the same program: %v", err)
	}
	err := s.RecordLaunch(ctx, "c1", "id: v2\n", testProgram("v2"), launch)
	if !errors.Is(err, store.ErrProgramMismatch) || errors.Is(err, store.ErrLaunchDateMismatch) || !strings.Contains(err.Error(), "program differs") {
		t.Fatalf("launch with another program: %v", err)
	}
	// Another date is refused as what it is, naming both dates.
	err = s.RecordLaunch(ctx, "c1", "id: v1\n", testProgram("v1"), launch.Add(time.Hour))
	if !errors.Is(err, store.ErrLaunchDateMismatch) || errors.Is(err, store.ErrProgramMismatch) ||
		!strings.Contains(err.Error(), "launch date differs") || strings.Contains(err.Error(), "program") ||
		!strings.Contains(err.Error(), "2009-04-14T09:00:00Z") || !strings.Contains(err.Error(), "2009-04-14T10:00:00Z") {
		t.Fatalf("launch at another date: %v", err)
	}
	c, err := s.GetCampaign(ctx, "c1")
	if err != nil {
		t.Fatal(err)
	}
	if c.State != store.CampaignLaunching || c.ProgramID != "v1" || c.ProgramFile != "id: v1\n" || c.Program == nil ||
		c.Program.Certifications[1] != "VSP" || !c.LaunchAt.Equal(launch.Truncate(time.Microsecond)) {
		t.Fatalf("campaign = %+v", c)
	}
	if err := s.SetCampaignState(ctx, "c1", store.CampaignRunning); err != nil {
		t.Fatal(err)
	}
	if err := s.SetCampaignState(ctx, "nope", store.CampaignRunning); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown campaign: %v", err)
	}
}

func TestListEnrollmentsPages(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	var rs []partnerfile.Row
	for i := range 25 {
		rs = append(rs, row(i+2, string(rune('a'+i)), "Premier", program.Facts{}))
	}
	if _, err := s.ImportPartners(ctx, "c1", rows(rs...), "import:x"); err != nil {
		t.Fatal(err)
	}
	var got []string
	after := ""
	for {
		page, err := s.ListEnrollments(ctx, "c1", after, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		for _, e := range page {
			got = append(got, e.PartnerID)
		}
		after = page[len(page)-1].PartnerID
	}
	if len(got) != 25 || got[0] != "a" || got[24] != "y" {
		t.Fatalf("paged %v", got)
	}
}

func TestApplyFactChange(t *testing.T) {
	ctx := context.Background()
	s, db := newStore(t)
	if _, err := s.ImportPartners(ctx, "c1", rows(baseRows()...), "import:a"); err != nil {
		t.Fatal(err)
	}
	prog := testProgram("v1")
	ch := program.FactChange{Op: program.OpCertEarned, Name: "VSP", ID: "crm-1", Source: "crm"}
	before, after, err := s.ApplyFactChange(ctx, "p1", ch, prog)
	if err != nil {
		t.Fatal(err)
	}
	if before.Certifications["VSP"] != 0 || after.Certifications["VSP"] != 1 {
		t.Fatalf("before %+v after %+v", before, after)
	}
	// The same change again (same ID) is recorded once.
	if _, _, err := s.ApplyFactChange(ctx, "p1", ch, prog); err != nil {
		t.Fatal(err)
	}
	p, _ := s.LoadPartner(ctx, "p1")
	if p.Facts.Certifications["VSP"] != 1 {
		t.Fatalf("VSP count = %d after applying the change twice", p.Facts.Certifications["VSP"])
	}
	if n := count(t, db, `SELECT count(*) FROM partner_fact_changes WHERE partner_id = 'p1' AND source = 'crm'`); n != 1 {
		t.Fatalf("%d fact change rows", n)
	}
	// Without an ID and source: operator.
	if _, _, err := s.ApplyFactChange(ctx, "p1", program.FactChange{Op: program.OpRevenueSet, Revenue: 5}, prog); err != nil {
		t.Fatal(err)
	}
	if n := count(t, db, `SELECT count(*) FROM partner_fact_changes WHERE partner_id = 'p1' AND source = 'operator' AND field = 'revenue_cents'`); n != 1 {
		t.Fatalf("%d operator rows", n)
	}
	if _, _, err := s.ApplyFactChange(ctx, "p1", program.FactChange{Op: program.OpCertEarned, Name: "VCPX"}, prog); !errors.Is(err, store.ErrInvalidChange) {
		t.Fatalf("undeclared certification: %v", err)
	}
	if _, _, err := s.ApplyFactChange(ctx, "nope", ch, prog); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown partner: %v", err)
	}
}

func TestRecordStageIgnoresStaleAndTierChangeOnce(t *testing.T) {
	ctx := context.Background()
	s, db := newStore(t)
	if _, err := s.ImportPartners(ctx, "c1", rows(baseRows()...), "import:a"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Date(2009, 10, 14, 0, 0, 0, 0, time.UTC)
	done := store.StageUpdate{CampaignID: "c1", PartnerID: "p1", Stage: "done", OldTier: "Premier", Outcome: "kept",
		NewTier: "Gold", Deadline: deadline, Seq: 7, Missing: []program.Missing{{Kind: program.MissingPoints, Have: 1, Need: 2}}}
	if ok, err := s.RecordStage(ctx, done); err != nil || !ok {
		t.Fatalf("record done: %v %v", ok, err)
	}
	if ok, err := s.RecordStage(ctx, done); err != nil || !ok {
		t.Fatalf("retry of the same update: %v %v", ok, err)
	}
	stale := store.StageUpdate{CampaignID: "c1", PartnerID: "p1", Stage: "waiting", OldTier: "Premier", Seq: 3}
	if ok, err := s.RecordStage(ctx, stale); err != nil || ok {
		t.Fatalf("stale update applied=%v err=%v", ok, err)
	}
	e, _ := s.GetEnrollment(ctx, "c1", "p1")
	if e.Stage != "done" || e.Seq != 7 || e.Outcome != "kept" || !e.Deadline.Equal(deadline) || len(e.Missing) != 1 {
		t.Fatalf("enrollment = %+v", e)
	}
	if _, err := s.RecordStage(ctx, store.StageUpdate{CampaignID: "c1", PartnerID: "ghost", Stage: "x"}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown partner: %v", err)
	}

	c := store.TierChange{WorkflowID: "transition/c1/p1", Step: "deadline", CampaignID: "c1", PartnerID: "p1",
		FromTier: "Premier", ToTier: "Gold", Outcome: "demoted", Reason: "missed", Actor: "workflow"}
	for i, want := range []bool{true, false} {
		applied, err := s.ApplyTierChange(ctx, c)
		if err != nil || applied != want {
			t.Fatalf("call %d: applied=%v err=%v", i, applied, err)
		}
	}
	if n := count(t, db, `SELECT count(*) FROM tier_changes`); n != 1 {
		t.Fatalf("%d tier changes", n)
	}
	if p, _ := s.LoadPartner(ctx, "p1"); p.Tier != "Gold" {
		t.Fatalf("tier %q", p.Tier)
	}
	if e, err := s.GetEnrollment(ctx, "c1", "p1"); err != nil || e.CurrentTier != "Gold" || e.NewTier != "Gold" {
		t.Fatalf("enrollment after the change: current %q, new %q, %v", e.CurrentTier, e.NewTier, err)
	}
	// A retry with the same key changes nothing, even if it asks for another tier.
	retry := c
	retry.ToTier = "Registered"
	if applied, err := s.ApplyTierChange(ctx, retry); err != nil || applied {
		t.Fatalf("retry: applied=%v err=%v", applied, err)
	}
	if p, _ := s.LoadPartner(ctx, "p1"); p.Tier != "Gold" {
		t.Fatalf("tier after a retry %q", p.Tier)
	}
	c.PartnerID, c.Step = "ghost", "x"
	if _, err := s.ApplyTierChange(ctx, c); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown partner: %v", err)
	}
	if n := count(t, db, `SELECT count(*) FROM tier_changes`); n != 1 {
		t.Fatalf("an unknown partner's change left an audit row: %d tier changes", n)
	}

	counts, err := s.CampaignCounts(ctx, "c1")
	if err != nil || counts.Total != 3 || counts.ByStage["done"] != 1 || counts.ByStage["enrolled"] != 2 || counts.ByOutcome["kept"] != 1 {
		t.Fatalf("counts %+v %v", counts, err)
	}
	m, err := s.OutcomeMatrix(ctx, "c1")
	if err != nil || len(m.Cells) != 3 || m.ByOutcome[""] != 2 {
		t.Fatalf("matrix %+v %v", m, err)
	}
	if _, err := s.EmailCounts(ctx, "c1"); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordLaunch(ctx, "c1", "f", testProgram("v1"), deadline); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RecordStage(ctx, store.StageUpdate{CampaignID: "c1", PartnerID: "p2", Stage: "waiting", Deadline: deadline, Seq: 1}); err != nil {
		t.Fatal(err)
	}
	due, err := s.DueSoon(ctx, "c1", 48*time.Hour, deadline.Add(-24*time.Hour), 10)
	if err != nil || len(due) != 1 || due[0].PartnerID != "p2" {
		t.Fatalf("due soon %+v %v", due, err)
	}

	// A known partner without an enrollment row gets one.
	if _, err := db.Pool.Exec(ctx, `DELETE FROM enrollments WHERE campaign_id = 'c1' AND partner_id = 'p3'`); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.RecordStage(ctx, store.StageUpdate{CampaignID: "c1", PartnerID: "p3", Stage: "notified", OldTier: "Registered", Seq: 2}); err != nil || !ok {
		t.Fatalf("record the stage of an enrollment that is gone: %v %v", ok, err)
	}
	if e, err := s.GetEnrollment(ctx, "c1", "p3"); err != nil || e.Stage != "notified" || e.OldTier != "Registered" || e.Seq != 2 {
		t.Fatalf("re-created enrollment = %+v, %v", e, err)
	}
}
