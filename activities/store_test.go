package activities_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/tiershift/tiershift/activities"
	"github.com/tiershift/tiershift/activities/contract"
	"github.com/tiershift/tiershift/internal/pgtest"
	"github.com/tiershift/tiershift/metrics"
	"github.com/tiershift/tiershift/program"
	"github.com/tiershift/tiershift/store"
)

func newStoreActivities(t *testing.T) (*activities.Store, *pgtest.DB) {
	t.Helper()
	db := pgtest.New(t)
	db.Exec(t, `INSERT INTO partners (partner_id, name, email, locale, country, tier, certifications, competencies, revenue_cents, points, timezone)
		VALUES ('p1', 'Acme', 'ops@acme.example', 'de', 'DE', 'Premier', '{"VCP": 2}', '{Cloud}', 12345, 7, 'Europe/Berlin')`)
	db.Exec(t, `INSERT INTO campaigns (campaign_id) VALUES ('c1')`)
	db.Exec(t, `INSERT INTO enrollments (campaign_id, partner_id, workflow_id, old_tier) VALUES ('c1', 'p1', 'transition/c1/p1', 'Premier')`)
	return &activities.Store{DB: store.New(db.Pool), Log: zerolog.New(zerolog.NewTestWriter(t))}, db
}

func count(t *testing.T, db *pgtest.DB, sql string) int {
	t.Helper()
	var n int
	if err := db.Pool.QueryRow(context.Background(), sql).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

var demotion = activities.TierChange{
	WorkflowID: "transition/c1/p1", Step: "deadline", CampaignID: "c1", PartnerID: "p1",
	FromTier: "Premier", ToTier: "Silver", Outcome: "demoted", Reason: "missed VSP", Actor: "workflow",
}

func TestApplyTierChangeTwiceChangesOnce(t *testing.T) {
	a, db := newStoreActivities(t)
	ctx := context.Background()
	for i, want := range []bool{true, false} {
		res, err := a.ApplyTierChange(ctx, demotion)
		if err != nil || res.Applied != want {
			t.Fatalf("call %d: %+v, %v; want applied=%v", i+1, res, err, want)
		}
	}
	if n := count(t, db, `SELECT count(*) FROM tier_changes`); n != 1 {
		t.Fatalf("%d tier_changes rows, want 1", n)
	}
	if n := count(t, db, `SELECT count(*) FROM partners WHERE tier = 'Silver'`); n != 1 {
		t.Fatalf("partner tier not changed")
	}
	if n := count(t, db, `SELECT count(*) FROM enrollments WHERE current_tier = 'Silver' AND new_tier = 'Silver'`); n != 1 {
		t.Fatalf("enrollment tier not changed")
	}
	// The audit is append-only even for the store's own connection.
	if _, err := db.Pool.Exec(ctx, `UPDATE tier_changes SET reason = 'x'`); err == nil {
		t.Fatal("tier_changes accepted an UPDATE")
	}
}

func TestRecordStageIgnoresStaleSeq(t *testing.T) {
	a, db := newStoreActivities(t)
	ctx := context.Background()
	newer := activities.StageUpdate{WorkflowID: "transition/c1/p1", CampaignID: "c1", PartnerID: "p1",
		Stage: "done", OldTier: "Premier", Outcome: "kept", NewTier: "Premier", Seq: 5}
	older := activities.StageUpdate{WorkflowID: "transition/c1/p1", CampaignID: "c1", PartnerID: "p1",
		Stage: "waiting", OldTier: "Premier", Seq: 2}
	for _, u := range []activities.StageUpdate{newer, older, newer} {
		if err := a.RecordStage(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	if n := count(t, db, `SELECT count(*) FROM enrollments WHERE stage = 'done' AND seq = 5 AND outcome = 'kept'`); n != 1 {
		t.Fatal("a stale stage update overwrote a newer one")
	}
}

func TestLoadPartner(t *testing.T) {
	a, _ := newStoreActivities(t)
	ctx := context.Background()
	snap, err := a.LoadPartner(ctx, activities.PartnerRef{CampaignID: "c1", PartnerID: "p1"})
	if err != nil {
		t.Fatal(err)
	}
	if snap.Name != "Acme" || snap.Locale != "de" || snap.Tier != "Premier" || snap.TimeZone != "Europe/Berlin" || snap.Facts.Certifications["VCP"] != 2 ||
		snap.Facts.Revenue != program.Money(12345) || snap.Facts.Points != 7 || len(snap.Facts.Competencies) != 1 || snap.Facts.Modules != nil {
		t.Fatalf("snapshot = %+v", snap)
	}

	_, err = a.LoadPartner(ctx, activities.PartnerRef{CampaignID: "c1", PartnerID: "ghost"})
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) || appErr.Type() != activities.ErrTypeUnknownPartner || !appErr.NonRetryable() {
		t.Fatalf("unknown partner: %v (%T)", err, err)
	}
	if !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown partner error does not wrap store.ErrNotFound: %v", err)
	}
}

func TestLoadProgramReadsTheLaunchedProgramOnce(t *testing.T) {
	a, db := newStoreActivities(t)
	ctx := context.Background()
	for _, c := range []struct{ campaign, want string }{
		{"c1", "has no stored program"}, // a draft: imported, not launched
		{"ghost", "does not exist"},
	} {
		_, err := a.LoadProgram(ctx, activities.CampaignRef{CampaignID: c.campaign})
		var appErr *temporal.ApplicationError
		if !errors.As(err, &appErr) || appErr.Type() != activities.ErrTypeNoProgram || !appErr.NonRetryable() ||
			!strings.Contains(err.Error(), c.want) {
			t.Fatalf("campaign %s: %v; want a non-retryable NoProgram error saying it %s", c.campaign, err, c.want)
		}
	}

	launched := &program.Program{ID: "v1", Name: "Test", OldTiers: []string{"Premier"},
		Tiers: []program.Tier{{Name: "Gold"}}, Fallback: "Gold",
		Transitions: []program.Transition{{From: "Premier", Grace: program.Duration{Months: 6}, Expect: "Gold"}}}
	if err := a.DB.RecordLaunch(ctx, "c1", "p.yaml", launched, time.Now()); err != nil {
		t.Fatal(err)
	}
	got, err := a.LoadProgram(ctx, activities.CampaignRef{CampaignID: "c1"})
	if err != nil || got.ID != "v1" || len(got.Transitions) != 1 || got.Transitions[0].Expect != "Gold" {
		t.Fatalf("launched campaign: %+v, %v", got, err)
	}
	// A launched campaign's program never changes, so the worker reads it
	// once: the second call does not go to Postgres.
	db.Exec(t, `UPDATE campaigns SET program = NULL WHERE campaign_id = 'c1'`)
	if again, err := a.LoadProgram(ctx, activities.CampaignRef{CampaignID: "c1"}); err != nil || again.ID != "v1" {
		t.Fatalf("second load: %+v, %v; want the program read the first time", again, err)
	}
}

func TestStoreActivitiesInTestEnvironment(t *testing.T) {
	a, db := newStoreActivities(t)
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestActivityEnvironment()
	a.Register(env)

	// By the contract's name, as a workflow calls it.
	val, err := env.ExecuteActivity(contract.LoadPartner.Name(), activities.PartnerRef{CampaignID: "c1", PartnerID: "p1"})
	if err != nil {
		t.Fatal(err)
	}
	var snap activities.PartnerSnapshot
	if err := val.Get(&snap); err != nil || snap.Facts.Certifications["VCP"] != 2 {
		t.Fatalf("LoadPartner through Temporal: %+v, %v", snap, err)
	}

	_, err = env.ExecuteActivity(contract.LoadPartner.Name(), activities.PartnerRef{CampaignID: "c1", PartnerID: "ghost"})
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) || appErr.Type() != activities.ErrTypeUnknownPartner {
		t.Fatalf("unknown partner through Temporal: %v", err)
	}

	for i, want := range []bool{true, false} {
		val, err := env.ExecuteActivity(a.ApplyTierChange, demotion)
		if err != nil {
			t.Fatal(err)
		}
		var res activities.TierChangeResult
		if err := val.Get(&res); err != nil || res.Applied != want {
			t.Fatalf("call %d: %+v, %v", i+1, res, err)
		}
	}
	if _, err := env.ExecuteActivity(a.RecordStage, activities.StageUpdate{WorkflowID: "transition/c1/p1",
		CampaignID: "c1", PartnerID: "p1", Stage: "waiting", Seq: 1,
		Missing: []program.Missing{{Kind: program.MissingCertification, Name: "VSP", Have: 0, Need: 1}}}); err != nil {
		t.Fatal(err)
	}
	if n := count(t, db, `SELECT count(*) FROM enrollments WHERE stage = 'waiting' AND missing->0->>'name' = 'VSP'`); n != 1 {
		t.Fatal("stage update through Temporal not recorded")
	}

	_, err = env.ExecuteActivity(a.RecordStage, activities.StageUpdate{CampaignID: "c1"})
	if !errors.As(err, &appErr) || appErr.Type() != activities.ErrTypeInvalidInput {
		t.Fatalf("invalid stage update: %v", err)
	}
}

// A tier change written counts once in tiershift_outcomes_total, labelled
// with the campaign's program (read from Postgres by a worker that never
// loaded it), the tier reached and the outcome; the retry that finds it
// done does not count again.
func TestApplyTierChangeCountsTheOutcomeOnce(t *testing.T) {
	a, _ := newStoreActivities(t)
	ctx := context.Background()
	m, err := metrics.New()
	if err != nil {
		t.Fatal(err)
	}
	a.Metrics = m
	launched := &program.Program{ID: "vmw-2009", Name: "Test", OldTiers: []string{"Premier"},
		Tiers: []program.Tier{{Name: "Silver"}}, Fallback: "Silver",
		Transitions: []program.Transition{{From: "Premier", Grace: program.Duration{Months: 6}, Expect: "Silver"}}}
	if err := a.DB.RecordLaunch(ctx, "c1", "p.yaml", launched, time.Now()); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := a.ApplyTierChange(ctx, demotion); err != nil {
			t.Fatal(err)
		}
	}
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	want := metrics.OutcomesTotal + `{outcome="demoted",program="vmw-2009",tier="Silver"} 1`
	if !strings.Contains(rec.Body.String(), want+"\n") {
		t.Fatalf("metrics do not contain %q:\n%s", want, grepLines(rec.Body.String(), metrics.OutcomesTotal))
	}
}

func grepLines(s, substr string) string {
	var out []string
	for line := range strings.Lines(s) {
		if strings.Contains(line, substr) {
			out = append(out, line)
		}
	}
	return strings.Join(out, "")
}
