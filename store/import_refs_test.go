package store_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/tiershift/tiershift/partnerfile"
	"github.com/tiershift/tiershift/program"
)

// The enrollments' references to partners and campaigns are checked by
// statement-level triggers (schema/003) instead of foreign keys: these prove
// they hold what the foreign keys held, with the same SQLSTATE.
func TestEnrollmentReferencesAreEnforced(t *testing.T) {
	ctx := context.Background()
	s, db := newStore(t)
	if _, err := s.ImportPartners(ctx, "c1", rows(baseRows()...), "test"); err != nil {
		t.Fatal(err)
	}
	wantFK := func(t *testing.T, what string, err error) {
		t.Helper()
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != "23503" {
			t.Fatalf("%s: want foreign_key_violation (23503), got %v", what, err)
		}
	}
	exec := func(sql string, args ...any) error {
		_, err := db.Pool.Exec(ctx, sql, args...)
		return err
	}
	wantFK(t, "enroll an unknown partner", exec(`INSERT INTO enrollments (campaign_id, partner_id, workflow_id, old_tier) VALUES ('c1', 'nobody', 'w-nobody', 'Premier')`))
	wantFK(t, "enroll in an unknown campaign", exec(`INSERT INTO enrollments (campaign_id, partner_id, workflow_id, old_tier) VALUES ('nope', 'p1', 'w-nope', 'Premier')`))
	// One bad row in a batch fails the whole statement.
	wantFK(t, "batch with one unknown partner", exec(`
		INSERT INTO campaigns (campaign_id) VALUES ('c2');
		INSERT INTO enrollments (campaign_id, partner_id, workflow_id, old_tier)
		SELECT 'c2', id, 'w2-' || id, 'Premier' FROM unnest(ARRAY['p1', 'p2', 'ghost', 'p3']) AS id`))
	if n := count(t, db, `SELECT count(*) FROM enrollments WHERE campaign_id = 'c2'`); n != 0 {
		t.Fatalf("a failed batch left %d enrollments", n)
	}
	// Under the import's table lock the check takes its other branch (it
	// only looks the partners up): it must refuse the same batch.
	wantFK(t, "batch with one unknown partner under the import's lock", exec(`
		BEGIN;
		LOCK TABLE partners IN SHARE ROW EXCLUSIVE MODE;
		INSERT INTO enrollments (campaign_id, partner_id, workflow_id, old_tier)
		SELECT 'c1', id, 'w3-' || id, 'Premier' FROM unnest(ARRAY['ghost2', 'p1']) AS id
		ON CONFLICT DO NOTHING;
		COMMIT`))
	_ = exec(`ROLLBACK`)
	wantFK(t, "unknown campaign under the import's lock", exec(`
		BEGIN;
		LOCK TABLE partners IN SHARE ROW EXCLUSIVE MODE;
		INSERT INTO enrollments (campaign_id, partner_id, workflow_id, old_tier) VALUES ('nope2', 'p1', 'w-nope2', 'Premier');
		COMMIT`))
	_ = exec(`ROLLBACK`)
	wantFK(t, "move an enrollment to an unknown partner", exec(`UPDATE enrollments SET partner_id = 'ghost' WHERE campaign_id = 'c1' AND partner_id = 'p1'`))
	wantFK(t, "move an enrollment to an unknown campaign", exec(`UPDATE enrollments SET campaign_id = 'ghost' WHERE campaign_id = 'c1' AND partner_id = 'p1'`))
	wantFK(t, "delete an enrolled partner", exec(`DELETE FROM partners WHERE partner_id = 'p2'`))
	wantFK(t, "rename an enrolled partner", exec(`UPDATE partners SET partner_id = 'p2x' WHERE partner_id = 'p2'`))
	wantFK(t, "delete a campaign with enrollments", exec(`DELETE FROM campaigns WHERE campaign_id = 'c1'`))
	wantFK(t, "rename a campaign with enrollments", exec(`UPDATE campaigns SET campaign_id = 'c1x' WHERE campaign_id = 'c1'`))

	// What a foreign key allows still works: unreferenced rows go, other updates pass.
	if err := exec(`INSERT INTO partners (partner_id, name, email, locale, tier) VALUES ('free', 'F', 'f@x', 'en', 'Premier')`); err != nil {
		t.Fatal(err)
	}
	if err := exec(`UPDATE partners SET name = 'G' WHERE partner_id = 'p2'`); err != nil {
		t.Fatal(err)
	}
	if err := exec(`DELETE FROM partners WHERE partner_id = 'free'`); err != nil {
		t.Fatal(err)
	}
	if err := exec(`INSERT INTO campaigns (campaign_id) VALUES ('empty'); DELETE FROM campaigns WHERE campaign_id = 'empty'`); err != nil {
		t.Fatal(err)
	}
	if err := exec(`DELETE FROM enrollments WHERE campaign_id = 'c1' AND partner_id = 'p3'; DELETE FROM partners WHERE partner_id = 'p3'`); err != nil {
		t.Fatalf("delete a partner once unenrolled: %v", err)
	}
}

// A first import (no stored partner, no enrollment) takes the direct path;
// a second one of the same rows, and one with a changed fact, the diff path:
// the results must be those of the diff path alone.
func TestImportFirstThenAgainIntoNewCampaign(t *testing.T) {
	ctx := context.Background()
	s, db := newStore(t)
	var rs []partnerfile.Row
	for i := range 500 {
		rs = append(rs, row(i+2, fmt.Sprintf("q%d", i), "Premier", program.Facts{Points: i}))
	}
	res, err := s.ImportPartners(ctx, "a", rows(rs...), "test")
	if err != nil {
		t.Fatal(err)
	}
	if res.Inserted != 500 || res.Enrolled != 500 || res.Updated != 0 || res.Unchanged != 0 {
		t.Fatalf("first import: %+v", res)
	}
	// Known partners, new campaign: nothing changes but the enrollments.
	res, err = s.ImportPartners(ctx, "b", rows(rs...), "test")
	if err != nil {
		t.Fatal(err)
	}
	if res.Inserted != 0 || res.Enrolled != 500 || res.Unchanged != 500 {
		t.Fatalf("second campaign: %+v", res)
	}
	// Same campaign again: nothing at all.
	res, err = s.ImportPartners(ctx, "b", rows(rs...), "test")
	if err != nil {
		t.Fatal(err)
	}
	if res.Inserted != 0 || res.Enrolled != 0 || res.Unchanged != 500 || res.FactsChanged != 0 {
		t.Fatalf("re-import: %+v", res)
	}
	// A duplicate in a first import aborts it: nothing written.
	dup := append([]partnerfile.Row{}, row(2, "n1", "Premier", program.Facts{}), row(3, "n1", "Premier", program.Facts{}))
	if _, err := s.ImportPartners(ctx, "c", rows(dup...), "test"); err == nil {
		t.Fatal("duplicate IDs imported")
	}
	if n := count(t, db, `SELECT count(*) FROM partners WHERE partner_id = 'n1'`) + count(t, db, `SELECT count(*) FROM campaigns WHERE campaign_id = 'c'`); n != 0 {
		t.Fatalf("a refused import wrote %d rows", n)
	}
	if n := count(t, db, `SELECT count(*) FROM enrollments`); n != 1000 {
		t.Fatalf("enrollments: %d, want 1000", n)
	}
}

// The check looks the new rows up as a set (schema/006): a batch as large as
// an import's, with known partners around the missing ones, is refused as a
// whole and names the smallest missing partner, whatever order the rows come
// in; an unknown campaign among known ones is found the same way.
func TestEnrollmentReferencesAreCheckedAsASet(t *testing.T) {
	ctx := context.Background()
	s, db := newStore(t)
	var rs []partnerfile.Row
	for i := range 3000 {
		rs = append(rs, row(i+2, fmt.Sprintf("k%04d", i), "Premier", program.Facts{}))
	}
	if _, err := s.ImportPartners(ctx, "c1", rows(rs...), "test"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Pool.Exec(ctx, `INSERT INTO campaigns (campaign_id) VALUES ('c2')`); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, sql, detail string }{
		{"two unknown partners among 3,000", `
			INSERT INTO enrollments (campaign_id, partner_id, workflow_id, old_tier)
			SELECT 'c2', id, 'w-' || id, 'Premier'
			FROM (SELECT partner_id FROM partners UNION ALL VALUES ('zz-ghost'), ('ghost-a')) AS x(id)
			ORDER BY id DESC`,
			`Key (partner_id)=(ghost-a) is not present in table "partners".`},
		{"two unknown campaigns among known ones", `
			INSERT INTO enrollments (campaign_id, partner_id, workflow_id, old_tier)
			SELECT c, p.partner_id, c || '/' || p.partner_id, 'Premier'
			FROM partners p CROSS JOIN (VALUES ('zz-nope'), ('c2'), ('nope-a')) AS x(c)`,
			`Key (campaign_id)=(nope-a) is not present in table "campaigns".`},
	} {
		_, err := db.Pool.Exec(ctx, tc.sql)
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != "23503" || pe.Detail != tc.detail {
			t.Fatalf("%s: want foreign_key_violation with %q, got %v", tc.name, tc.detail, err)
		}
	}
	if n := count(t, db, `SELECT count(*) FROM enrollments WHERE campaign_id <> 'c1'`); n != 0 {
		t.Fatalf("refused batches left %d enrollments", n)
	}
}
