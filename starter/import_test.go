package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tiershift/tiershift/internal/pgtest"
	"github.com/tiershift/tiershift/program"
	"github.com/tiershift/tiershift/store"
	"github.com/tiershift/tiershift/workflows"
)

// starterDB gives the test its own schema and points the starter at it.
func starterDB(t *testing.T) *pgtest.DB {
	t.Helper()
	db := pgtest.New(t)
	t.Setenv("DATABASE_URL", db.URL)
	t.Setenv("LOG_FORMAT", "console") // sentences on stdout, as a person gets them
	t.Setenv("LOG_LEVEL", "warn")
	return db
}

// execStarter runs the starter in-process and returns its output.
func execStarter(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	root := newRootCmd()
	root.SetArgs(args)
	root.SetOut(&out)
	root.SetErr(&errOut)
	err = root.ExecuteContext(context.Background())
	return out.String(), errOut.String(), err
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func countRows(t *testing.T, db *pgtest.DB, sql string) int {
	t.Helper()
	var n int
	if err := db.Pool.QueryRow(context.Background(), sql).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

const header = "partner_id,name,email,locale,tier,revenue,points,certifications,competencies,modules\n"

const goodFile = header +
	"p1,Acme,ops@acme.example,en,Premier,1000.00,5,VCP:2|VSP:1,Cloud,Sales\n" +
	"p2,Bolt,hi@bolt.example,en,Enterprise,0,0,,,\n" +
	"p3,Core,it@core.example,fr,Premier,250.50,12,VCP:1,,Sales|Tech\n"

func TestImportWithErrorsImportsNothingAndListsEveryError(t *testing.T) {
	db := starterDB(t)
	file := writeFile(t, "bad.csv", header+
		"p1,Acme,ops@acme.example,en,Premier,1000.00,5,,,\n"+
		"p2,Bolt,not-an-email,en,Enterprise,0,0,,,\n"+
		"p3,Core,it@core.example,fr,Premier,0,lots,,,\n"+
		"p1,Acme again,ops@acme.example,en,Premier,0,0,,,\n"+
		"p4,Dash,d@dash.example,en,Premier,0,0,,,\n")
	_, stderr, err := execStarter(t, "import", "--campaign", "c1", file)
	var in inputError
	if !errors.As(err, &in) {
		t.Fatalf("err = %v, want an input error (exit 2)", err)
	}
	for _, want := range []string{file + ":3:9: email:", file + ":4:38: points:", file + ":5:1: partner_id:"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if !strings.Contains(err.Error(), "3 problems in 3 of 5 rows; nothing imported") {
		t.Errorf("error = %v", err)
	}
	if n := countRows(t, db, `SELECT (SELECT count(*) FROM partners) + (SELECT count(*) FROM campaigns) + (SELECT count(*) FROM enrollments)`); n != 0 {
		t.Fatalf("an invalid file wrote %d rows", n)
	}

	// --skip-invalid imports the valid rows (the first p1 and p4) only.
	stdout, _, err := execStarter(t, "import", "--campaign", "c1", "--skip-invalid", file)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout, "2 inserted") || !strings.Contains(stdout, "skipped 3 invalid rows") {
		t.Fatalf("stdout = %s", stdout)
	}
	if n := countRows(t, db, `SELECT count(*) FROM partners WHERE partner_id IN ('p1', 'p4') AND name <> 'Acme again'`); n != 2 {
		t.Fatalf("%d valid partners imported, want 2", n)
	}
}

// The file is read once, streaming into the transaction: a bad row after
// good ones, even the last one, must still roll back the changes of the rows
// before it.
func TestImportWithABadLastRowChangesNothingStored(t *testing.T) {
	db := starterDB(t)
	if _, _, err := execStarter(t, "import", "--campaign", "c1", writeFile(t, "a.csv", goodFile)); err != nil {
		t.Fatal(err)
	}
	changed := writeFile(t, "b.csv", header+
		"p1,Acme,ops@acme.example,en,Premier,9999.00,50,VCP:2|VSP:1,Cloud,Sales\n"+
		"p9,Nine,n@nine.example,en,Premier,0,0,,,\n"+
		"p2,Bolt,hi@bolt.example,en,Enterprise,0,-3,,,\n")
	_, stderr, err := execStarter(t, "import", "--campaign", "c2", changed)
	var in inputError
	if !errors.As(err, &in) || !strings.Contains(stderr, changed+":4:41: points:") {
		t.Fatalf("err = %v, stderr = %s; want an input error naming line 4", err, stderr)
	}
	if n := countRows(t, db, `SELECT count(*) FROM partners WHERE partner_id = 'p9' OR points <> 5 AND partner_id = 'p1'`); n != 0 {
		t.Fatalf("a rolled-back import changed %d partners", n)
	}
	if n := countRows(t, db, `SELECT (SELECT count(*) FROM partner_fact_changes) + (SELECT count(*) FROM campaigns WHERE campaign_id = 'c2')`); n != 0 {
		t.Fatalf("a rolled-back import left %d fact changes or campaigns", n)
	}
}

func TestReimportChangesNothingAndUpdateRecordsChanges(t *testing.T) {
	db := starterDB(t)
	file := writeFile(t, "partners.csv", goodFile)
	stdout, _, err := execStarter(t, "import", "--campaign", "c1", file)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout, "3 inserted, 0 updated, 0 unchanged, 0 facts changed, 3 enrolled") {
		t.Fatalf("first import: %s", stdout)
	}
	stdout, _, err = execStarter(t, "import", "--campaign", "c1", file)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout, "0 inserted, 0 updated, 3 unchanged, 0 facts changed, 0 enrolled") {
		t.Fatalf("re-import: %s", stdout)
	}
	if n := countRows(t, db, `SELECT count(*) FROM partner_fact_changes`); n != 0 {
		t.Fatalf("re-import recorded %d fact changes", n)
	}

	// p1 earns a certification, p3 loses its points; p2 only changes name.
	updated := writeFile(t, "partners-2.csv", header+
		"p1,Acme,ops@acme.example,en,Premier,1000.00,5,VCP:2|VSP:1|VTSP:1,Cloud,Sales\n"+
		"p2,Bolt GmbH,hi@bolt.example,en,Enterprise,0,0,,,\n"+
		"p3,Core,it@core.example,fr,Premier,250.50,0,VCP:1,,Sales|Tech\n")
	stdout, _, err = execStarter(t, "import", "--campaign", "c1", updated)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout, "0 inserted, 3 updated, 0 unchanged, 2 facts changed, 0 enrolled") {
		t.Fatalf("updated import: %s", stdout)
	}
	if n := countRows(t, db, `SELECT count(*) FROM partner_fact_changes
		WHERE source = 'import:partners-2.csv' AND ((partner_id = 'p1' AND field = 'certifications' AND new_value->>'VTSP' = '1')
		   OR (partner_id = 'p3' AND field = 'points' AND old_value = '12' AND new_value = '0'))`); n != 2 {
		t.Fatalf("%d matching fact changes, want 2", n)
	}
	if n := countRows(t, db, `SELECT count(*) FROM partner_fact_changes`); n != 2 {
		t.Fatalf("%d fact changes, want 2", n)
	}
}

func TestImportAcceptsSpreadsheetFiles(t *testing.T) {
	db := starterDB(t)
	content := "\ufeff" + strings.ReplaceAll(strings.ReplaceAll(goodFile, ",", ";"), "\n", "\r\n")
	content = strings.Replace(content, "1000.00", `"1000.00"`, 1)
	file := writeFile(t, "excel.csv", content)
	stdout, stderr, err := execStarter(t, "import", "--campaign", "c1", file)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	if !strings.Contains(stdout, "3 inserted") {
		t.Fatalf("stdout = %s", stdout)
	}
	var points int
	var cents int64
	if err := db.Pool.QueryRow(context.Background(), `SELECT points, revenue_cents FROM partners WHERE partner_id = 'p1'`).Scan(&points, &cents); err != nil {
		t.Fatal(err)
	}
	if points != 5 || cents != 100000 {
		t.Fatalf("p1 points %d revenue %d", points, cents)
	}
}

func TestImportChecksAgainstTheCampaignsStoredProgram(t *testing.T) {
	db := starterDB(t)
	prog := &program.Program{ID: "v1", Name: "Test", OldTiers: []string{"Premier", "Enterprise"}, Tiers: []program.Tier{{Name: "Gold"}}}
	if err := store.New(db.Pool).RecordLaunch(context.Background(), "c1", "id: v1\n", prog, time.Now()); err != nil {
		t.Fatal(err)
	}
	file := writeFile(t, "partners.csv", goodFile+"p9,Nine,n@nine.example,en,Platinum,0,0,,,\n")
	_, stderr, err := execStarter(t, "import", "--campaign", "c1", file)
	var in inputError
	if !errors.As(err, &in) || !strings.Contains(stderr, file+":5:27: tier:") {
		t.Fatalf("err = %v, stderr:\n%s", err, stderr)
	}
	if n := countRows(t, db, `SELECT count(*) FROM partners`); n != 0 {
		t.Fatalf("%d partners imported from an invalid file", n)
	}
}

func TestImportReportsAnUnreachableDatabase(t *testing.T) {
	t.Setenv("DATABASE_URL", "postgres://tiershift:s3cret@127.0.0.1:1/tiershift?sslmode=disable")
	file := writeFile(t, "partners.csv", goodFile)
	_, _, err := execStarter(t, "import", "--campaign", "c1", file)
	if err == nil || strings.Contains(err.Error(), "s3cret") || !strings.Contains(err.Error(), "127.0.0.1:1") {
		t.Fatalf("err = %v", err)
	}
}

func TestMigrateReportsVersions(t *testing.T) {
	starterDB(t)
	stdout, _, err := execStarter(t, "migrate")
	if err != nil || !strings.Contains(stdout, "schema is current") {
		t.Fatalf("migrate: %q, %v", stdout, err)
	}
}

// TestReimportAfterLaunchReachesRunningWorkflows re-imports a partner file
// after the launch, with one partner's facts changed: that partner's running
// workflow gets the facts Signal and re-evaluates (it now qualifies), the
// other partner's workflow is not signalled.
func TestReimportAfterLaunchReachesRunningWorkflows(t *testing.T) {
	f := opsTemporal(t, true)
	const partners = "partner_id,name,email,locale,tier,revenue,points,certifications,competencies,modules\n" +
		"p1,Acme,ops@acme.example,en,Premier,0,0,%s,,\n" +
		"p2,Bolt,hi@bolt.example,en,Enterprise,0,0,,,\n"
	opsMust(t, "import", "--campaign", f.campaign, "--program", f.program, writeFile(t, "a.csv", fmt.Sprintf(partners, "")))
	opsMust(t, "launch", "--campaign", f.campaign, "--program", f.program)

	announced := func(pid string) func() bool {
		return func() bool {
			st := f.waitStatus(pid)
			return st.Stage != workflows.StageWaitingLaunch && len(st.Missing) > 0
		}
	}
	waitFor(t, "p1 announced and missing VTSP", announced("p1"))
	waitFor(t, "p2 announced", announced("p2"))

	out := opsMust(t, "import", "--campaign", f.campaign, "--program", f.program, writeFile(t, "b.csv", fmt.Sprintf(partners, "VTSP:1")))
	if !strings.Contains(out, "1 facts changed") {
		t.Fatalf("re-import:\n%s", out)
	}
	waitFor(t, "p1 to re-evaluate and qualify", func() bool {
		st := f.waitStatus("p1")
		return st.MeetsExpected && st.Stage == workflows.StageQualified && len(st.Missing) == 0
	})
	if n := f.signals("p1", workflows.MessageFacts); n != 1 {
		t.Errorf("p1 got %d facts Signals, want 1", n)
	}
	if n := f.signals("p2", workflows.MessageFacts); n != 0 {
		t.Errorf("p2, whose facts did not change, got %d facts Signals", n)
	}
}
